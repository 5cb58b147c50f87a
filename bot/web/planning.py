"""The planning editor: a channel's pacing written back to the YAML file, comments kept."""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from bot.errors import ConfigError
from bot.settings import Settings, load_settings

# The keys the editor changes. An empty field removes `min_gap` (back to the platform's
# default) and sets the other two to null (no cap, no quiet hours).
PACING_KEYS = ("min_gap", "max_per_day", "quiet_hours")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The file as it was read for a form: its text and a fingerprint (mtime and hash)."""

    text: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class PacingChange:
    channel_id: str
    min_gap: str
    max_per_day: str
    quiet_hours: str


class PlanningConflict(Exception):
    """The file changed since the form was shown: nothing was written."""


def _yaml() -> YAML:
    yaml = YAML()  # round trip: comments, order and flow styles are kept
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def snapshot(path: Path) -> Snapshot:
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:16]
    return Snapshot(data.decode("utf-8"), f"{path.stat().st_mtime_ns}:{digest}")


def _value(key: str, raw: str) -> Any:
    raw = raw.strip()
    if key == "max_per_day":
        return int(raw) if raw.isdigit() else (raw or None)
    return raw or None


def apply_pacing(text: str, change: PacingChange) -> str:
    """The YAML text with one channel's pacing changed, and nothing else (pure)."""
    yaml = _yaml()
    tree = yaml.load(text)
    channels = tree.get("channels") if isinstance(tree, CommentedMap) else None
    if not isinstance(channels, CommentedSeq):
        raise ConfigError("planning", ["channels: no channel list in the file"])
    target = next(
        (
            c
            for c in channels
            if isinstance(c, CommentedMap) and str(c.get("id")) == change.channel_id
        ),
        None,
    )
    if target is None:
        raise ConfigError("planning", [f"channels: no channel {change.channel_id!r} in the file"])
    for key in PACING_KEYS:
        value = _value(key, getattr(change, key))
        if value is None and key == "min_gap":
            target.pop(key, None)
        elif value is None and key not in target:
            continue
        else:
            target[key] = value
    out = io.StringIO()
    yaml.dump(tree, out)
    return out.getvalue()


def save_pacing(path: Path, change: PacingChange, fingerprint: str) -> Settings:
    """Validate the edited file exactly as `relais` loads it, then replace the file, unless it
    changed since `fingerprint` was taken. Returns the new settings; raises ConfigError (the
    change is invalid) or PlanningConflict (someone edited the file meanwhile)."""
    before = snapshot(path)
    if before.fingerprint != fingerprint:
        raise PlanningConflict(str(path))
    edited = apply_pacing(before.text, change)
    scratch = path.with_name(f".{path.name}.relais-edit")
    scratch.write_text(edited, encoding="utf-8")
    try:
        try:
            settings = load_settings(scratch)  # the same checks and the same .env
        except ConfigError as err:
            raise ConfigError(str(path), err.problems) from None
        if snapshot(path).fingerprint != fingerprint:
            raise PlanningConflict(str(path))
        os.replace(scratch, path)
    finally:
        scratch.unlink(missing_ok=True)
    return settings

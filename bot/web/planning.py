"""The planning editor: a channel's schedule written back to the YAML file, comments kept."""

from __future__ import annotations

import hashlib
import io
import os
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from bot.errors import ConfigError
from bot.settings import Settings, load_settings

# The form's fields, as the manager types them:
#   min_gap "10m" · max_per_day "40" · quiet_hours "00:00-06:00"
#   slots "mon-fri: 07:30 12:30 18:00; sat-sun: 09:00" · roundup_at "07:00 19:00"
# An empty field removes `min_gap`, `slots` or `roundup` (their defaults: none) and sets
# `max_per_day` and `quiet_hours` to null (no cap, no quiet hours).
FIELDS = ("min_gap", "max_per_day", "quiet_hours", "slots", "roundup_at")
_TIMES = re.compile(r"[\s,]+")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The file as it was read for a form: its text and a fingerprint (mtime and hash)."""

    text: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class PacingChange:
    """One channel's schedule as the form posted it (see FIELDS)."""

    channel_id: str
    min_gap: str | None = None  # None: not in the form, left as the file has it
    max_per_day: str | None = None
    quiet_hours: str | None = None
    slots: str | None = None
    roundup_at: str | None = None

    def summary(self) -> str:
        given = ((f.name, getattr(self, f.name)) for f in fields(self)[1:])
        return " ".join(f"{name}={value}" for name, value in given if value is not None)


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


def _channel(tree: Any, channel_id: str) -> CommentedMap:
    channels = tree.get("channels") if isinstance(tree, CommentedMap) else None
    if not isinstance(channels, CommentedSeq):
        raise ConfigError("planning", ["channels: no channel list in the file"])
    for channel in channels:
        if isinstance(channel, CommentedMap) and str(channel.get("id")) == channel_id:
            return channel
    raise ConfigError("planning", [f"channels: no channel {channel_id!r} in the file"])


def _times(text: str) -> CommentedSeq:
    """ "07:30 12:30" → ["07:30", "12:30"], quoted: YAML 1.1 readers take 07:30 for a number."""
    return CommentedSeq(DoubleQuotedScalarString(t) for t in _TIMES.split(text.strip()) if t)


def parse_slots(text: str) -> CommentedMap | None:
    """ "mon-fri: 07:30 12:30; sat-sun: 09:00" → {mon-fri: ["07:30", "12:30"], sat-sun: [...]}
    (the days and times are checked by the settings, like any config)."""
    out = CommentedMap()
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        days, sep, times = part.partition(":")
        if not sep or not re.fullmatch(r"(?:[^\W\d_]|[,\- ])+", days.strip()):
            raise ConfigError(
                "planning", [f"slots: {part!r}: write days, a colon, then times (mon-fri: 07:30)"]
            )
        out[days.strip()] = _times(times)
    return out or None


def _slots_text(value: Any) -> str:
    if not isinstance(value, dict):
        return ""
    parts = []
    for days, times in value.items():
        listed = [times] if isinstance(times, str) else list(times or ())
        parts.append(f"{days}: {' '.join(str(t) for t in listed)}")
    return "; ".join(parts)


def form_values(text: str, channel_id: str) -> dict[str, str]:
    """The form's fields for one channel, as the file writes them (pure)."""
    channel = _channel(_yaml().load(text), channel_id)
    roundup = channel.get("roundup")
    at = roundup.get("at") if isinstance(roundup, dict) else None
    return {
        "min_gap": str(channel.get("min_gap") or ""),
        "max_per_day": str(channel.get("max_per_day") or ""),
        "quiet_hours": str(channel.get("quiet_hours") or ""),
        "slots": _slots_text(channel.get("slots")),
        "roundup_at": " ".join(str(t) for t in ([at] if isinstance(at, str) else at or ())),
    }


def _plain(key: str, raw: str) -> Any:
    raw = raw.strip()
    if key == "max_per_day":
        return int(raw) if raw.isdigit() else (raw or None)
    return raw or None


def apply_pacing(text: str, change: PacingChange) -> str:
    """The YAML text with one channel's schedule changed, and nothing else (pure)."""
    yaml = _yaml()
    tree = yaml.load(text)
    target = _channel(tree, change.channel_id)
    for key in ("min_gap", "max_per_day", "quiet_hours"):
        raw = getattr(change, key)
        if raw is None:
            continue
        value = _plain(key, raw)
        if value is None and key == "min_gap":
            target.pop(key, None)
        elif value is not None or key in target:
            target[key] = value
    if change.slots is not None:
        _set_slots(target, parse_slots(change.slots))
    if change.roundup_at is not None:
        _set_roundup(target, _times(change.roundup_at))
    out = io.StringIO()
    yaml.dump(tree, out)
    return out.getvalue()


def _set_slots(channel: CommentedMap, slots: CommentedMap | None) -> None:
    if slots is None:
        channel.pop("slots", None)
    elif _slots_text(channel.get("slots")) != _slots_text(slots):  # unchanged: left as written
        channel["slots"] = slots


def _set_roundup(channel: CommentedMap, times: CommentedSeq) -> None:
    """New roundup times; the roundup's other keys (min_items…) are kept."""
    roundup = channel.get("roundup")
    if not times:
        channel.pop("roundup", None)
    elif isinstance(roundup, CommentedMap):
        if [str(t) for t in (roundup.get("at") or ())] != list(times):
            roundup["at"] = times
    else:
        channel["roundup"] = CommentedMap([("at", times)])


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

"""Screening getUpdates answers: an update python-telegram-bot cannot read is replaced by an
empty one with its id, so that the offset moves past it (pure: JSON in, JSON out)."""

from __future__ import annotations

import json
from typing import Any

from telegram import Update

MALFORMED_KEY = "relais_malformed"
"""Set (to the parse error's type) in the `api_kwargs` of an update that stands for a bad one."""


def screen_updates(raw: Any) -> Any:
    """`raw` with each update that does not parse replaced by `{"update_id": n,
    MALFORMED_KEY: "KeyError"}`; an entry without a usable update_id is dropped. Anything that
    is not a list is returned as it is (python-telegram-bot reports it)."""
    if not isinstance(raw, list):
        return raw
    screened: list[Any] = []
    for item in raw:
        try:
            Update.de_json(item, None)
        except Exception as err:  # whatever the library trips on, it is this update's fault
            update_id = item.get("update_id") if isinstance(item, dict) else None
            if isinstance(update_id, int) and not isinstance(update_id, bool):
                screened.append({"update_id": update_id, MALFORMED_KEY: type(err).__name__})
            continue
        screened.append(item)
    return screened


def screen_payload(payload: bytes) -> bytes:
    """A getUpdates answer's bytes with its updates screened (`screen_updates`); anything else
    (not JSON, not ok) is returned as it came, for the library to report."""
    try:
        answer = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return payload
    if not isinstance(answer, dict) or answer.get("ok") is not True:
        return payload
    screened = screen_updates(answer.get("result"))
    if screened == answer.get("result"):
        return payload
    return json.dumps({**answer, "result": screened}).encode()

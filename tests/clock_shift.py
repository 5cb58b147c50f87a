"""The whole suite on another date: RELAIS_TEST_CLOCK_SHIFT=+365d moves every wall clock of the run.

Read only by the test fixtures (tests/conftest.py, and the `relais` processes the end-to-end tests
start through `python -m tests.clock_shift`). No test may depend on the date it runs: `make
test-shifted` runs the suite a year ahead (`SHIFT=-365d`: a year back), and `.ci/run` does too.
"""

from __future__ import annotations

import os
import re
import sys
from datetime import UTC, datetime, timedelta

import time_machine

ENV = "RELAIS_TEST_CLOCK_SHIFT"
_SHIFT = re.compile(r"^([+-])(\d+)([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_shift(text: str) -> timedelta:
    """'+365d' → 365 days ahead; '-12h' → twelve hours back."""
    match = _SHIFT.match(text.strip())
    if match is None:
        raise ValueError(f"{ENV} must look like +365d, -365d or +12h, not {text!r}")
    sign, amount, unit = match.groups()
    delta = timedelta(**{_UNITS[unit]: int(amount)})
    return -delta if sign == "-" else delta


def configured_shift() -> timedelta | None:
    text = os.environ.get(ENV, "").strip()
    return parse_shift(text) if text else None


def start() -> timedelta | None:
    """Moves every wall clock of this process (time.time, datetime.now, …) by the shift, ticking."""
    shift = configured_shift()
    if shift:
        time_machine.travel(datetime.now(UTC) + shift, tick=True).start()
    return shift


def relais_command() -> list[str]:
    """How a test starts `relais` as a process: on the shifted clock when there is one."""
    return [sys.executable, "-m", "tests.clock_shift" if configured_shift() else "bot"]


if __name__ == "__main__":  # `python -m tests.clock_shift ARGS…`: `relais ARGS…`, shifted
    start()
    from bot.cli import main

    sys.exit(main(sys.argv[1:]))

"""The date guard itself: the shift parses, and when set it really moves the service's clock."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import SystemClock
from tests import clock_shift


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+365d", timedelta(days=365)),
        ("-365d", timedelta(days=-365)),
        ("+12h", timedelta(hours=12)),
        (" -90m ", timedelta(minutes=-90)),
    ],
)
def test_shift_parses(text: str, expected: timedelta) -> None:
    assert clock_shift.parse_shift(text) == expected


@pytest.mark.parametrize("text", ["365d", "+1y", "+d", "tomorrow", ""])
def test_a_malformed_shift_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=clock_shift.ENV):
        clock_shift.parse_shift(text)


def test_the_service_clock_is_the_shifted_one() -> None:
    """A child `date` reads the real clock; this process and its service read the moved one."""
    shift = clock_shift.configured_shift() or timedelta(0)
    real = datetime.fromtimestamp(
        int(subprocess.run(["date", "+%s"], capture_output=True, text=True, check=True).stdout),
        UTC,
    )
    drift = SystemClock().now() - real - shift
    assert abs(drift) < timedelta(minutes=1)

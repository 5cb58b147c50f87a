"""Page weight and time to first render of the dashboard's main pages, in headless Chromium.

It runs the browser test of the 360-pixel layout in `tests/web/test_browser.py` (a live server
on 127.0.0.1, Debian's Chromium emulating a 360-pixel phone, the test's sample newsroom), which
records each page's Navigation Timing, and prints, per page: bytes over the wire (the stylesheet
and script are cached after the first page), bytes decoded (page + CSS + JS), requests, time to
first byte, first contentful paint and load, in milliseconds.

Run it with `make bench-dashboard`. Needs `apt-get install chromium chromium-driver`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

TEST = "tests/web/test_browser.py::test_no_horizontal_scroll_at_360_pixels_and_page_figures"


def main() -> int:
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "figures.json"
        env = {**os.environ, "RELAIS_PAGE_FIGURES": str(out)}
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TEST],
            cwd=root,
            env=env,
            check=False,
        )
        if done.returncode != 0 or not out.exists():
            print("the browser run failed or was skipped: no figures", file=sys.stderr)
            return 1
        figures = json.loads(out.read_text())
    head = ("page", "wire B", "decoded B", "req", "TTFB", "FCP", "load")
    print("{:<12} {:>8} {:>10} {:>4} {:>6} {:>6} {:>6}".format(*head))
    for page, f in figures.items():
        fcp = f"{f['fcp']:.0f}" if f["fcp"] is not None else "—"
        print(
            f"{page:<12} {f['bytes']:>8} {f['decoded']:>10} {f['requests']:>4} "
            f"{f['ttfb']:>6.0f} {fcp:>6} {f['load']:>6.0f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

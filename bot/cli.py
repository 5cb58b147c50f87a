"""Command line: argument parsing and exit codes; the only place that exits."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    return 0

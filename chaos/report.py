"""What every chaos runner prints: a progress bar while it runs, then a table and JSON."""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (share 0.5 = median); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


class Progress:
    """A one-line bar on stderr, redrawn at most every `interval` s (a new line every 10 % when
    stderr is not a terminal, so CI logs stay short)."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None, interval: float = 0.2) -> None:
        self._label, self._total = label, max(total, 1)
        self._stream = stream or sys.stderr
        self._interval = interval
        self._tty = self._stream.isatty()
        self._started = time.monotonic()
        self._drawn_at = 0.0
        self._last_tenth = -1
        self._lock = threading.Lock()
        self.done = 0

    def advance(self, count: int = 1, note: str = "") -> None:
        with self._lock:
            self.done += count
            now = time.monotonic()
            tenth = 10 * self.done // self._total
            if self._tty and now - self._drawn_at < self._interval and self.done < self._total:
                return
            if not self._tty and tenth == self._last_tenth:
                return
            self._drawn_at, self._last_tenth = now, tenth
            self._draw(now, note)

    def _draw(self, now: float, note: str) -> None:
        share = min(self.done / self._total, 1.0)
        filled = int(30 * share)
        elapsed = now - self._started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        line = (
            f"{self._label} [{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self._total} "
            f"{share:4.0%} {rate:7.1f}/s {elapsed:5.0f} s {note}"
        )
        self._stream.write(("\r" + line) if self._tty else (line + "\n"))
        self._stream.flush()

    def close(self) -> None:
        if self._tty:
            self._stream.write("\n")
            self._stream.flush()


def print_table(title: str, rows: Sequence[tuple[str, Any]], stream: TextIO | None = None) -> None:
    out = stream or sys.stdout
    width = max(len(label) for label, _ in rows)
    print(f"\n{title}", file=out)
    print(f"  {'-' * width}  {'-' * 12}", file=out)
    for label, value in rows:
        print(f"  {label:<{width}}  {value}", file=out)


def emit(title: str, rows: Sequence[tuple[str, Any]], figures: dict[str, Any], json_path: str | None) -> None:
    """The table, then the figures as one JSON document on stdout (and in `json_path`)."""
    print_table(title, rows)
    document = json.dumps(figures, indent=2, sort_keys=True)
    print(document)
    if json_path:
        Path(json_path).write_text(document + "\n", encoding="utf-8")


def command_line(
    prog: str,
    description: str,
    defaults: Any,
    described: Mapping[str, str],
    run: Callable[[Any, bool], dict[str, Any]],
    title: Callable[[Any, dict[str, Any]], str],
    rows: Callable[[dict[str, Any]], Sequence[tuple[str, Any]]],
    argv: list[str] | None = None,
    check: Callable[[Any], str | None] = lambda options: None,
) -> int:
    """A runner's command line: one --flag per field of its options dataclass, described by
    `described` (every one must be), --json and --no-progress; prints the table and JSON; exit 0
    only when the run passed."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    for name, value in defaults.__dict__.items():
        parser.add_argument(
            f"--{name.replace('_', '-')}", type=type(value), default=value,
            help=f"{described[name]} (default: %(default)s)",
        )  # fmt: skip
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--no-progress", action="store_true", help="print only the result, no progress lines")
    args = vars(parser.parse_args(argv))
    json_path, quiet = args.pop("json"), args.pop("no_progress")
    options = type(defaults)(**args)
    problem = check(options)
    if problem:
        parser.error(problem)
    result = run(options, not quiet)
    emit(title(options, result), rows(result), result, json_path)
    return 0 if result["passed"] else 1

"""Runs every benchmark and prints its ratios; exits non-zero only if a benchmark breaks."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "common"))

from bench import audit_ingest, audit_query, token_rotation

BENCHMARKS = [audit_ingest, audit_query, token_rotation]


def main() -> None:
    print("dbguard benchmarks: ratios against baselines measured in this same run (lower is better)")
    for benchmark in BENCHMARKS:
        benchmark.run()


if __name__ == "__main__":
    main()

"""Runs the benchmarks, prints their figures and whether each goal holds (a table, then JSON), and
writes the JSON to bench/results/latest.json. Exits non-zero only if a benchmark breaks.

`python -m bench cold_start token_rotation` runs only those; `make bench` runs them all.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "common"))

from bench import (
    audit_csv_import,
    audit_digest,
    audit_ingest,
    audit_query,
    cold_start,
    layer_size,
    rotation_status,
    token_rotation,
)

BENCHMARKS = {
    "cold_start": cold_start,
    "audit_ingest": audit_ingest,
    "audit_csv_import": audit_csv_import,
    "audit_query": audit_query,
    "token_rotation": token_rotation,
    "rotation_status": rotation_status,
    "layer_size": layer_size,
    "audit_digest": audit_digest,
}
RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
# (goal, result key, limit, aim): each figure is a ratio to a baseline measured in the same run,
# except the call count and the layer size (issue 16)
GOALS = [
    *(
        (f"init of {name} <= 1.35 x import boto3 + one client", f"cold_start_{name}_ratio", 1.35, 1.25)
        for name in cold_start.FUNCTIONS
    ),
    ("ingest, one event per POST <= 1.5 x bare handler", "ingest_single_ratio", 1.5, 1.2),
    (
        "ingest, 100 events per POST, per event <= 1.5 x bare handler",
        "ingest_batch_per_event_ratio",
        1.5,
        1.2,
    ),
    ("CSV import, per row <= 1.5 x a REST event (100 per POST)", "csv_row_cost_ratio", 1.5, 1.2),
    ("CSV import, peak memory of the large file <= 256 MB", "csv_memory_mb", 256.0, None),
    (
        "CSV import, memory flat: large file's peak <= 1.1 x small file's",
        "csv_memory_growth_ratio",
        1.1,
        None,
    ),
    # through Secrets Manager (issue 25): at most RotationConcurrency rotations in progress, each one's
    # registry and Secrets Manager round trips in line with its JumpServer requests (docs/rotation.md)
    ("rotation of 1,000 databases <= 2.5 x ideal", "rotation_ratio", 2.5, 2.0),
    ("JumpServer calls per rotation, steady state <= 4", "rotation_calls_per_database", 4.0, None),
    ("rotation status, all of 10,000 databases <= 3 x reading them", "status_latency_ratio", 3.0, 2.0),
    ("layer unzipped <= 15 MB", "layer_mb", 15.0, None),
    # issue 24: one invocation (Timeout 900 s, MemorySize 3008 MB) digests an hour of a million events
    ("digest of 1,000,000 events <= 2 x reading them", "digest_million_ratio", 2.0, 1.5),
    ("digest of 1,000,000 events, peak memory <= 3,008 MB", "digest_million_peak_mb", 3008.0, None),
    # against the embedded AWS, reading is the bound (moto serialises ~400 items/s): the ratio says
    # what verification adds; its own work must keep up with 20,000 events/s (docs/audit-digests.md)
    ("verify against the embedded AWS <= 1.5 x reading the events", "verify_ratio", 1.5, 1.2),
    ("verification's own work: 20,000 events <= 1 s", "verify_own_seconds_per_20000", 1.0, 0.5),
]


def main(names: list[str]) -> None:
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        sys.exit(f"no benchmark {', '.join(sorted(unknown))}; there are {', '.join(BENCHMARKS)}")
    chosen = names or list(BENCHMARKS)
    print("dbguard benchmarks: ratios against baselines measured in this same run (lower is better)")
    print(_expected_duration(chosen), flush=True)
    results: dict[str, float | str] = {}
    seconds: dict[str, float] = {}
    started = time.monotonic()
    for number, name in enumerate(chosen, 1):
        print(f"\n[{number}/{len(chosen)}] {name} ...", flush=True)
        began = time.monotonic()
        results |= BENCHMARKS[name].run()
        seconds[name] = round(time.monotonic() - began, 1)
        print(f"[{number}/{len(chosen)}] {name} done in {_minutes(seconds[name])}", flush=True)
    goals = [_goal(goal, key, limit, aim, results.get(key)) for goal, key, limit, aim in GOALS]
    _print_table(goals)
    print(f"\nall in {_minutes(time.monotonic() - started)}")
    document = {"results": results, "goals": goals, "seconds": seconds}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\n{json.dumps(document)}\n(also in {RESULTS})")


def _expected_duration(names: list[str]) -> str:
    """How long the last run on this machine took for these (its `seconds`): machines differ too much
    for a figure from elsewhere to mean anything."""
    try:
        last = json.loads(RESULTS.read_text()).get("seconds", {})
    except (OSError, ValueError):
        last = {}
    progress = "each says when it starts and how long it took, the cold start also each round"
    if not all(name in last for name in names):
        return f"{len(names)} benchmark(s), minutes each; this first run records their durations ({progress})"
    expected = sum(last[name] for name in names)
    return f"{len(names)} benchmark(s), about {_minutes(expected)} as the last run here took ({progress})"


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {int(seconds % 60)} s" if seconds >= 60 else f"{seconds:.0f} s"


def _goal(goal: str, key: str, limit: float, aim: float | None, value) -> dict:
    holds = None if value is None else value <= limit
    return {"goal": goal, "key": key, "value": value, "limit": limit, "aim": aim, "holds": holds}


def _print_table(goals: list[dict]) -> None:
    width = max(len(goal["goal"]) for goal in goals)
    print(f"\n{'goal':<{width}}  {'figure':>8}  {'aim':>5}  holds")
    for goal in goals:
        value = "-" if goal["value"] is None else f"{goal['value']:8.2f}"
        aim = "" if goal["aim"] is None else f"{goal['aim']:.2f}"
        holds = {None: "not measured", True: "yes", False: "NO"}[goal["holds"]]
        print(f"{goal['goal']:<{width}}  {value:>8}  {aim:>5}  {holds}")


if __name__ == "__main__":
    main(sys.argv[1:])

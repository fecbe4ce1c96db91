"""Every function's init phase: a fresh interpreter importing its handler module with the template's
environment, as a ratio to a fresh interpreter that imports boto3 and creates one client.

The shared package is imported as the layer ships it, with its bytecode (layers/common/Makefile):
copied and compiled once, so no sample compiles it (this machine may set PYTHONDONTWRITEBYTECODE).

Each function sample is taken next to a baseline sample of its own (which goes first alternates),
so the baseline's median rests on 150 samples that saw the machine's load as the functions did. On
a shared 2-core machine the same import takes 200 ms for a while, then 300: the median of 9 moved
the same code's ratio between 1.27 and 1.64 from one run to the next, 15 pairs still by 0.2; 30 pairs
by 0.1 to 0.2 (CPU time instead of the wall clock was no steadier). The ratio is of the medians.
Nothing answers on the network: an init that calls AWS or JumpServer would show up as a failure.
"""

from __future__ import annotations

import compileall
import json
import os
import py_compile
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.harness import FAKE_AWS, LAYER, REPO_ROOT, report, template_function

RUNS = int(os.environ.get("BENCH_COLD_START_RUNS", "30"))
FUNCTIONS = {
    "audit_ingest": "AuditIngestFunction",
    "audit_authorizer": "AuditAuthorizerFunction",
    "audit_query": "AuditQueryFunction",
    "cmdb_sync": "CmdbSyncFunction",
    "token_rotation": "TokenRotationFunction",
    "rotation_status": "RotationStatusFunction",
    "audit_csv_import": "AuditCsvImportFunction",
    "audit_sources": "AuditSourcesFunction",
    "audit_digest": "AuditDigestFunction",
}
BASELINE = "import boto3; boto3.client('dynamodb')"
# Powertools' Tracer reads this; the template sets it from EnableTracing, the benchmark must not.
_NOT_OURS = {"POWERTOOLS_TRACE_DISABLED"}


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as layer:
        return _measured(_as_shipped(Path(layer)))


def _as_shipped(layer: Path) -> Path:
    """The dbguard package with its bytecode, as build-CommonLayer puts it in the layer."""
    shutil.copytree(LAYER / "dbguard", layer / "dbguard", ignore=shutil.ignore_patterns("__pycache__"))
    mode = py_compile.PycInvalidationMode.UNCHECKED_HASH
    if not compileall.compile_dir(layer / "dbguard", quiet=1, invalidation_mode=mode):
        raise RuntimeError("the shared package does not compile")
    return layer


def _measured(layer: Path) -> dict[str, float]:
    environments = {name: template_function(logical_id) for name, logical_id in FUNCTIONS.items()}
    aws = {key: value for key, value in FAKE_AWS.items() if key not in _NOT_OURS}
    codes = {
        name: (
            f"import sys; sys.path.insert(0, {str(spec.code_dir)!r}); import app",
            spec.environment | aws | {"LAMBDA_TASK_ROOT": str(spec.code_dir)},  # as Lambda sets it
        )
        for name, spec in environments.items()
    }
    samples: dict[str, list[float]] = {name: [] for name in [*codes, "baseline"]}
    for run in range(RUNS):
        print(
            f"  cold start: round {run + 1} of {RUNS} ({len(codes)} functions and their baselines)",
            flush=True,
        )
        for name, (code, environment) in codes.items():
            pair = [(name, code, environment), ("baseline", BASELINE, aws)]
            ordered = pair if run % 2 else pair[::-1]  # which of the two goes first alternates
            for key, sample, sample_environment in ordered:
                samples[key].append(_import_seconds(sample, sample_environment, layer))
    base = statistics.median(samples["baseline"])
    results, rows = {"cold_start_baseline_ms": base * 1000}, []
    for name in codes:
        seconds = statistics.median(samples[name])
        results[f"cold_start_{name}_ratio"] = seconds / base
        results[f"cold_start_{name}_ms"] = seconds * 1000
        rows.append((name, f"{seconds * 1000:5.0f} ms vs {base * 1000:4.0f} ms   ratio {seconds / base:.2f}"))
    title = f"cold start: import of each handler module vs {BASELINE!r}"
    report(f"{title} (median of {RUNS}; of the baseline's {len(samples['baseline'])})", rows)
    return results


def _import_seconds(code: str, environment: dict[str, str], layer: Path) -> float:
    timer = f"import time\n_t = time.perf_counter()\n{code}\nprint(time.perf_counter() - _t)\n"
    env = {
        **{key: value for key, value in os.environ.items() if key not in _NOT_OURS},
        **environment,
        "PYTHONPATH": os.pathsep.join([str(layer), str(REPO_ROOT)]),
    }
    out = subprocess.run([sys.executable, "-c", timer], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    print(json.dumps(run()))

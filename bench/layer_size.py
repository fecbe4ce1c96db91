"""The shared layer's size unzipped, built as `sam build` builds it: layers/common/Makefile's
build-CommonLayer target (the pinned closure for manylinux aarch64, CPython 3.13, wheels only, as
bytecode instead of sources, plus the dbguard package with its bytecode) into a temporary folder,
every file of which is counted. Lambda allows 250 MB for a function and its layers together,
unzipped; the goal is 15 MB.

The runtime already ships boto3 and botocore, so the layer must not carry them (docs/architecture.md):
the result names any that got in.

Without PyPI (offline), the size of the same distributions as installed in this environment is
reported instead, and the result says so: their pure-Python files are the same, their compiled parts
are this machine's, not aarch64's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from bench.harness import LAYER, report

REQUIREMENTS = LAYER / "requirements.txt"
# What the python3.13 Lambda runtime ships and the layer must leave to it (scripts/lock leaves them out)
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "python-dateutil", "six"}
MB = 1_000_000


def run() -> dict[str, float | str]:
    pinned = _pinned()
    with tempfile.TemporaryDirectory() as artifacts:
        sizes, method = _built(Path(artifacts))
    if sizes is None:
        sizes, method = _installed_here(pinned), "this environment's installed files (PyPI unreachable)"
        sizes["dbguard (the shared package)"] = _tree_bytes(LAYER / "dbguard")
    total = sum(sizes.values())
    bundled_sdk = sorted(set(sizes) & RUNTIME_PROVIDED)
    largest = sorted(sizes.items(), key=lambda item: -item[1])[:6]
    report(
        f"layer: {REQUIREMENTS.relative_to(LAYER.parents[1])} + dbguard, unzipped ({method})",
        [
            ("total", f"{total / MB:.1f} MB"),
            ("largest", ", ".join(f"{name} {size / MB:.1f}" for name, size in largest)),
            ("the runtime's SDK bundled as well", ", ".join(bundled_sdk) or "none"),
        ],
    )
    return {"layer_mb": total / MB, "layer_bundled_sdk": ", ".join(bundled_sdk), "layer_measured_as": method}


def _pinned() -> dict[str, str]:
    """Distribution name (normalised) -> pinned version."""
    pinned = {}
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pinned[_normalised(name)] = version.strip()
    return pinned


def _built(artifacts: Path) -> tuple[dict[str, int] | None, str]:
    """Every file the layer build writes, by distribution (the rest is dbguard); None if it failed."""
    command = ["make", "--silent", "-C", str(LAYER), "build-CommonLayer",
               f"ARTIFACTS_DIR={artifacts}", f"PYTHON={sys.executable}"]  # fmt: skip
    if subprocess.run(command, capture_output=True, check=False).returncode != 0:
        return None, ""
    root = artifacts / "python"
    owner = {}  # file -> distribution, from each distribution's RECORD
    for record in root.glob("*.dist-info/RECORD"):
        name = _normalised(record.parent.name.removesuffix(".dist-info").rsplit("-", 1)[0])
        for line in record.read_text().splitlines():
            if line:
                owner[(root / line.split(",")[0]).resolve()] = name
    sizes: dict[str, int] = {}
    for path in root.rglob("*"):
        if path.is_file():
            source = path.with_suffix(".py").resolve()  # a third-party .pyc stands where its .py was
            name = owner.get(path.resolve()) or owner.get(source) or "dbguard (the shared package)"
            sizes[name] = sizes.get(name, 0) + path.stat().st_size
    return sizes, "layers/common/Makefile for manylinux2014_aarch64, CPython 3.13, every file counted"


def _installed_here(pinned: dict[str, str]) -> dict[str, int]:
    sizes = {}
    for name in pinned:
        files = metadata.distribution(name).files or []
        sizes[name] = sum(
            file.size or 0 for file in files if "__pycache__" not in file.parts and file.suffix != ".pyc"
        )
    return sizes


def _tree_bytes(root: Path) -> int:
    return sum(
        path.stat().st_size for path in root.rglob("*") if path.is_file() and "__pycache__" not in path.parts
    )


def _normalised(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


if __name__ == "__main__":
    print(json.dumps(run()))

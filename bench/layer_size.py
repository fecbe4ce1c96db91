"""The shared layer's size unzipped: layers/common/requirements.txt installed for the Lambda platform
(manylinux aarch64, CPython 3.13, as `sam build` does it: wheels only, no .pyc) plus the dbguard
package. Lambda allows 250 MB for a function and its layers together, unzipped.

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
# What the python3.13 Lambda runtime already holds (it ships boto3 and its dependencies): the part of
# the layer that a layer relying on the runtime's SDK would not carry.
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
MB = 1_000_000


def run() -> dict[str, float | str]:
    pinned = _pinned()
    with tempfile.TemporaryDirectory() as target:
        sizes, method = _installed_for_lambda(Path(target), pinned)
    if sizes is None:
        sizes, method = _installed_here(pinned), "this environment's installed files (PyPI unreachable)"
    sizes["dbguard (the shared package)"] = _tree_bytes(LAYER / "dbguard")
    total = sum(sizes.values())
    runtime = sum(size for name, size in sizes.items() if name in RUNTIME_PROVIDED)
    largest = sorted(sizes.items(), key=lambda item: -item[1])[:6]
    report(
        f"layer: {REQUIREMENTS.relative_to(LAYER.parents[1])} + dbguard, unzipped ({method})",
        [
            ("total", f"{total / MB:.1f} MB"),
            ("largest", ", ".join(f"{name} {size / MB:.1f}" for name, size in largest)),
            ("of which the runtime already holds",
             f"{runtime / MB:.1f} MB ({', '.join(sorted(RUNTIME_PROVIDED))})"),
        ],
    )  # fmt: skip
    return {"layer_mb": total / MB, "layer_runtime_provided_mb": runtime / MB, "layer_measured_as": method}


def _pinned() -> dict[str, str]:
    """Distribution name (normalised) -> pinned version."""
    pinned = {}
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pinned[_normalised(name)] = version.strip()
    return pinned


def _installed_for_lambda(target: Path, pinned: dict[str, str]) -> tuple[dict[str, int] | None, str]:
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input",
        "--target", str(target), "--platform", "manylinux2014_aarch64", "--implementation", "cp",
        "--python-version", "3.13", "--only-binary=:all:", "--no-deps", "--no-compile",
        "-r", str(REQUIREMENTS),
    ]  # fmt: skip
    if subprocess.run(command, capture_output=True, check=False).returncode != 0:
        return None, ""
    sizes = {}
    for record in target.glob("*.dist-info/RECORD"):
        name = _normalised(record.parent.name.removesuffix(".dist-info").rsplit("-", 1)[0])
        files = [line.split(",")[0] for line in record.read_text().splitlines() if line]
        sizes[name] = sum((target / file).stat().st_size for file in files if (target / file).is_file())
    missing = set(pinned) - set(sizes)
    if missing:
        raise RuntimeError(f"pip installed no {', '.join(sorted(missing))}")
    return sizes, "pip install --target for manylinux2014_aarch64, CPython 3.13"


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

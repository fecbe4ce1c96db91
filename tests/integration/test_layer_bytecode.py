"""The layer ships its third-party packages as bytecode (layers/common/Makefile, third-party-as-shipped):
the target runs on this machine's installed copies of the layer's distributions, and every function
then initialises from the result: no source left to compile, and nothing it imports was pruned."""

from __future__ import annotations

import importlib.metadata
import marshal
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.function_start import LAYER_SOURCE, loaded_after_init, specs

RUNTIME_PYTHON = sys.version_info[:2] == (3, 13)  # the target writes bytecode only with the runtime's version
SHOWN = ["pydantic", "pydantic_core.core_schema", "aws_lambda_powertools.logging.logger", "typing_extensions"]


def distributions() -> list[str]:
    lines = (LAYER_SOURCE / "requirements.txt").read_text().splitlines()
    return [line.split("==")[0] for line in lines if line and not line.startswith("#")]


@pytest.fixture(scope="module")
def layer(tmp_path_factory) -> Path:
    """The layer's distributions as installed here, then the target the layer build runs on them."""
    target = tmp_path_factory.mktemp("layer") / "python"
    for name in distributions():
        distribution = importlib.metadata.distribution(name)
        for file in distribution.files or []:
            if file.parts[0] == ".." or "__pycache__" in file.parts:
                continue  # scripts outside site-packages; bytecode of this machine's own
            (target / file).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(distribution.locate_file(file), target / file)
    command = ["make", "--silent", "-C", str(LAYER_SOURCE), "third-party-as-shipped"]
    subprocess.run([*command, f"LAYER_DIR={target}", f"PYTHON={sys.executable}"], check=True)
    return target


@pytest.mark.skipif(not RUNTIME_PYTHON, reason="bytecode is only written by Python 3.13")
def test_third_party_packages_are_bytecode_only(layer):
    assert not list(layer.rglob("*.py"))
    assert (layer / "pydantic" / "main.pyc").exists()
    assert (layer / "typing_extensions.pyc").exists()
    assert not list(layer.rglob("*.min.js"))  # Powertools' Swagger UI
    code = marshal.loads((layer / "pydantic" / "main.pyc").read_bytes()[16:])  # noqa: S302 - the build output
    assert code.co_filename == "/opt/python/pydantic/main.py"  # where tracebacks say it is in Lambda


@pytest.mark.skipif(RUNTIME_PYTHON, reason="Python 3.13 writes bytecode")
def test_another_python_leaves_the_sources(layer):
    assert (layer / "pydantic" / "main.py").exists()
    assert not list(layer.rglob("*.pyc"))  # one it wrote would not load in the runtime's 3.13


@pytest.mark.parametrize("logical_id", sorted(specs()))
def test_every_function_initialises_from_the_shipped_bytecode(layer, logical_id):
    reported = f"{{name: sys.modules[name].__file__ for name in {SHOWN!r}}}"
    loaded = loaded_after_init(logical_id, [layer, LAYER_SOURCE], reported)
    assert isinstance(loaded, dict)
    for name, file in loaded.items():
        assert file.startswith(str(layer)), (name, file)
        assert file.endswith(".pyc" if RUNTIME_PYTHON else ".py"), (name, file)

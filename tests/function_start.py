"""Start a function as a new Lambda environment would: a fresh interpreter with the template's
environment importing its handler module, then report what the init left loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

from dbguard_local.cfn import Template, load_template
from dbguard_local.functions import FunctionSpec, function_specs
from dbguard_local.resources import name_resources

LAYER_SOURCE = Path(__file__).resolve().parents[1] / "layers" / "common"


@cache
def specs() -> dict[str, FunctionSpec]:
    template = Template(load_template(), region="eu-central-1")
    name_resources(template)
    return function_specs(template)


def loaded_after_init(logical_id: str, python_path: list[Path], reported: str) -> Any:
    """The JSON value of `reported` (an expression) evaluated right after the handler module's import.
    The init runs without network: it must not call AWS or JumpServer."""
    spec = specs()[logical_id]
    environment = {
        **os.environ,
        **spec.environment,
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "PYTHONPATH": os.pathsep.join(str(path) for path in python_path),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LAMBDA_TASK_ROOT": str(spec.code_dir),  # as Lambda sets it
    }
    code = (
        f"import sys, json; sys.path.insert(0, {str(spec.code_dir)!r}); import app; "
        f"print(json.dumps({reported}))"
    )
    answer = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True)
    assert answer.returncode == 0, answer.stderr[-2000:]
    return json.loads(answer.stdout.splitlines()[-1])

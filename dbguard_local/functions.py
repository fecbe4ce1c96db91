"""The template's functions as the local stack runs them: code, handler, environment, events.

A function's environment is Globals + its own variables, resolved like CloudFormation would, so a
variable the template forgets is missing locally too.
"""

from __future__ import annotations

import gc
import importlib.util
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from dbguard_local.cfn import TEMPLATE_PATH, Template

REPO_ROOT = TEMPLATE_PATH.parent
FUNCTION_TYPE = "AWS::Serverless::Function"


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str
    code_dir: Path
    handler: str  # "module.function"
    environment: dict[str, str]
    timeout_seconds: int
    memory_mb: int
    events: dict[str, dict[str, Any]] = field(default_factory=dict)


def register_functions(template: Template) -> None:
    """Give every function its physical name and ARN, so intrinsics can refer to them, and its
    AutoPublishAlias the ARN SAM's `!Ref <function>.Alias` stands for (locally, one code version)."""
    alias_default = template.function_globals().get("AutoPublishAlias")
    for logical_id, resource in template.resources.items():
        if resource["Type"] == FUNCTION_TYPE:
            given = resource["Properties"].get("FunctionName")
            name = template.resolve(given) if given else f"{template.stack_name}-{logical_id}"
            arn = f"arn:aws:lambda:{template.region}:{template.account_id}:function:{name}"
            template.record(logical_id, name, Arn=arn)
            alias = resource["Properties"].get("AutoPublishAlias", alias_default)
            if alias:
                template.record(f"{logical_id}.Alias", f"{arn}:{template.resolve(alias)}")


def function_of_arn(template: Template, arn: str) -> str:
    """The function an ARN invokes, with or without a qualifier (alias or version)."""
    unqualified = ":".join(arn.split(":")[:7])  # arn:aws:lambda:<region>:<account>:function:<name>
    for (logical_id, attribute), value in template.attributes.items():
        if (
            attribute == "Arn"
            and value == unqualified
            and template.resources[logical_id]["Type"] == FUNCTION_TYPE
        ):
            return logical_id
    raise LookupError(f"{arn}: no function of the template")


def function_specs(template: Template) -> dict[str, FunctionSpec]:
    defaults = template.function_globals()
    specs = {}
    for logical_id, resource in template.resources.items():
        if resource["Type"] != FUNCTION_TYPE or not template.is_created(logical_id):
            continue
        properties = resource["Properties"]
        variables = {
            **defaults.get("Environment", {}).get("Variables", {}),
            **properties.get("Environment", {}).get("Variables", {}),
        }
        specs[logical_id] = FunctionSpec(
            logical_id=logical_id,
            name=template.physical_ids[logical_id],
            code_dir=REPO_ROOT / properties["CodeUri"],
            handler=properties["Handler"],
            environment={key: _env_string(template.resolve(value)) for key, value in variables.items()},
            timeout_seconds=int(template.resolve(properties.get("Timeout", defaults.get("Timeout", 3)))),
            memory_mb=int(template.resolve(properties.get("MemorySize", defaults.get("MemorySize", 128)))),
            events=template.resolve(properties.get("Events", {})),
        )
    return specs


def _env_string(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)


def load_handler_module(spec: FunctionSpec) -> ModuleType:
    """Import the function's module under a name of its own (every function's file is app.py)."""
    module_name, _ = spec.handler.rsplit(".", 1)
    path = spec.code_dir / f"{module_name.replace('.', '/')}.py"
    module_spec = importlib.util.spec_from_file_location(f"{spec.logical_id}_{module_name}", path)
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        # the init turned the garbage collector off (dbguard/init_phase.py) and failed before turning
        # it on: Lambda would end the environment, this process goes on
        gc.enable()
        raise
    return module


class LambdaContext:
    """What a handler may read from Lambda's context object, with a real deadline."""

    def __init__(self, spec: FunctionSpec, region: str, account_id: str) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account_id}:function:{spec.name}"
        self.memory_limit_in_mb = spec.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + spec.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

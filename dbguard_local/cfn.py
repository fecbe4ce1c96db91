"""Reading template.yaml the way CloudFormation would, for the local stack and the tests.

Only what dbguard's template uses is supported: parameters with defaults and overrides, conditions,
and the intrinsic functions Ref, Fn::Sub, Fn::GetAtt, Fn::If, Fn::Equals, Fn::Not, Fn::And, Fn::Or,
Fn::Join, Fn::Split and Fn::Select. Anything else raises, so an unsupported construct is noticed
rather than silently mis-resolved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "template.yaml"
NO_VALUE = object()  # AWS::NoValue: the property or list item disappears
_SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")
_SHORT_FORMS = (
    "Ref",
    "Condition",
    *(
        f"Fn::{name}"
        for name in ("Sub", "GetAtt", "If", "Equals", "Not", "And", "Or", "Join", "Split", "Select")
    ),
)


class _TemplateLoader(yaml.SafeLoader):
    """SafeLoader that turns `!Ref x` into `{"Ref": "x"}` and `!GetAtt a.b` into `{"Fn::GetAtt": [a, b]}`."""


def _short_form(full_name: str):
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if full_name == "Fn::GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {full_name: value}

    return construct


for _full_name in _SHORT_FORMS:
    _TemplateLoader.add_constructor(f"!{_full_name.removeprefix('Fn::')}", _short_form(_full_name))


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_TemplateLoader)  # noqa: S506 - SafeLoader subclass


# What a local run uses for the parameters an operator must give at deploy time (no Default): the
# JumpServer simulator's default address (`make jumpserver-sim`), proxied on the loopback.
LOCAL_REQUIRED_PARAMETERS = {"JumpServerUrl": "http://127.0.0.1:8090", "JumpServerProxyHost": "127.0.0.1"}


class Template:
    """A template with its parameters chosen; resolves intrinsics against resources created so far."""

    def __init__(
        self,
        document: Mapping[str, Any],
        *,
        parameters: Mapping[str, str] | None = None,
        region: str = "eu-central-1",
        account_id: str = "123456789012",
        stack_name: str = "dbguard-local",
    ) -> None:
        self.document = document
        self.region = region
        self.account_id = account_id
        self.stack_name = stack_name
        self.parameters = self._choose_parameters(parameters or {})
        self.physical_ids: dict[str, str] = {}
        self.attributes: dict[tuple[str, str], str] = {}

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.document["Resources"]

    def function_globals(self) -> dict[str, Any]:
        return self.document.get("Globals", {}).get("Function", {})

    def is_created(self, logical_id: str) -> bool:
        """Whether the resource's Condition (if any) holds."""
        condition = self.resources[logical_id].get("Condition")
        return condition is None or self.condition(condition)

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.document["Conditions"][name]))

    def record(self, logical_id: str, physical_id: str, **attributes: str) -> None:
        self.physical_ids[logical_id] = physical_id
        for attribute, value in attributes.items():
            self.attributes[(logical_id, attribute)] = value

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [item for item in (self.resolve(i) for i in node) if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, argument),) = node.items()
            if key == "Ref" or key.startswith("Fn::") or key == "Condition":
                return self._intrinsic(key, argument)
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not NO_VALUE}

    def _choose_parameters(self, overrides: Mapping[str, str]) -> dict[str, Any]:
        declared = self.document.get("Parameters", {})
        unknown = set(overrides) - set(declared)
        if unknown:
            raise ValueError(f"unknown template parameters: {', '.join(sorted(unknown))}")
        chosen = {}
        for name, spec in declared.items():
            default = spec.get("Default", LOCAL_REQUIRED_PARAMETERS.get(name))
            if name not in overrides and default is None:
                raise ValueError(f"template parameter {name} has no default and no value was given")
            value = str(overrides.get(name, default))
            chosen[name] = value.split(",") if spec["Type"] == "CommaDelimitedList" else value
        return chosen

    def _intrinsic(self, key: str, argument: Any) -> Any:
        handler = getattr(self, "_fn_" + key.removeprefix("Fn::").lower(), None)
        if handler is None:
            raise NotImplementedError(f"intrinsic function {key} is not supported locally")
        return handler(argument)

    def _fn_ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.physical_ids:
            return self.physical_ids[name]
        raise LookupError(f"Ref {name}: not a parameter, pseudo parameter or created resource")

    def _fn_getatt(self, argument: list[str]) -> str:
        logical_id, attribute = argument
        try:
            return self.attributes[(logical_id, attribute)]
        except KeyError:
            raise LookupError(f"GetAtt {logical_id}.{attribute}: not known locally") from None

    def _fn_sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        variables = {name: self.resolve(value) for name, value in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                return str(self._fn_getatt(name.split(".", 1)))
            return str(self._fn_ref(name))

        return _SUB_VARIABLE.sub(substitute, text).replace("${!", "${")

    def _fn_if(self, argument: list[Any]) -> Any:
        name, when_true, when_false = argument
        return self.resolve(when_true if self.condition(name) else when_false)

    def _fn_condition(self, name: str) -> bool:
        return self.condition(name)

    def _fn_equals(self, argument: list[Any]) -> bool:
        # CloudFormation compares the string forms: a Number parameter "0" equals the literal 0.
        left, right = (self.resolve(value) for value in argument)
        return str(left) == str(right)

    def _fn_not(self, argument: list[Any]) -> bool:
        return not self.resolve(argument[0])

    def _fn_and(self, argument: list[Any]) -> bool:
        return all(self.resolve(value) for value in argument)

    def _fn_or(self, argument: list[Any]) -> bool:
        return any(self.resolve(value) for value in argument)

    def _fn_join(self, argument: list[Any]) -> str:
        separator, values = argument
        return separator.join(str(value) for value in self.resolve(values))

    def _fn_split(self, argument: list[Any]) -> list[str]:
        separator, text = argument
        return self.resolve(text).split(separator)

    def _fn_select(self, argument: list[Any]) -> Any:
        index, values = argument
        return self.resolve(values)[int(self.resolve(index))]

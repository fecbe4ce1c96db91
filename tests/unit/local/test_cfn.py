import textwrap

import pytest
import yaml

from dbguard_local.cfn import Template, _TemplateLoader, load_template
from dbguard_local.functions import function_of_arn
from dbguard_local.resources import name_resources


def template(text, **parameters):
    return Template(yaml.load(textwrap.dedent(text), Loader=_TemplateLoader), parameters=parameters)  # noqa: S506


DOC = """
Parameters:
  Env: {Type: String, Default: dev}
  Days: {Type: Number, Default: 0}
  Cidrs: {Type: CommaDelimitedList, Default: ""}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  Keeps: !Not [!Equals [!Ref Days, "0"]]
  HasCidrs: !Not [!Equals [!Join ["", !Ref Cidrs], ""]]
Resources:
  Table: {Type: AWS::DynamoDB::Table}
"""


def test_short_forms_become_intrinsics():
    document = yaml.load("a: !GetAtt T.Arn\nb: !Sub x-${Env}\nc: !If [C, 1, 2]", Loader=_TemplateLoader)  # noqa: S506
    assert document == {
        "a": {"Fn::GetAtt": ["T", "Arn"]},
        "b": {"Fn::Sub": "x-${Env}"},
        "c": {"Fn::If": ["C", 1, 2]},
    }


def test_parameters_conditions_and_comma_lists():
    dev = template(DOC)
    assert not dev.condition("IsProd")
    assert not dev.condition("Keeps")
    assert not dev.condition("HasCidrs")
    prod = template(DOC, Env="prod", Days="30", Cidrs="10.0.0.0/8,10.1.0.0/16")
    assert prod.condition("IsProd")
    assert prod.condition("Keeps")
    assert prod.resolve({"Ref": "Cidrs"}) == ["10.0.0.0/8", "10.1.0.0/16"]


def test_sub_refs_getatts_and_no_value():
    stack = template(DOC, Env="prod")
    stack.record("Table", "t-1", Arn="arn:t-1")
    node = {
        "Name": {"Fn::Sub": "${Table}/${Table.Arn}/${AWS::Region}/${Env}/${!Literal}"},
        "Optional": {"Fn::If": ["IsProd", {"Ref": "AWS::NoValue"}, "kept"]},
        "List": ["a", {"Fn::If": ["IsProd", {"Ref": "AWS::NoValue"}, "b"]}],
    }
    assert stack.resolve(node) == {"Name": "t-1/arn:t-1/eu-central-1/prod/${Literal}", "List": ["a"]}


def test_unknown_parameters_and_unsupported_functions_are_refused():
    with pytest.raises(ValueError, match="unknown template parameters: Nope"):
        template(DOC, Nope="1")
    with pytest.raises(NotImplementedError):
        template(DOC).resolve({"Fn::FindInMap": ["M", "a", "b"]})
    with pytest.raises(LookupError):
        template(DOC).resolve({"Ref": "Table"})  # not created yet


def test_a_function_alias_resolves_and_leads_back_to_its_function():
    template = Template(load_template(), region="eu-central-1")
    name_resources(template)
    alias_arn = template.resolve({"Ref": "AuditAuthorizerFunction.Alias"})
    assert alias_arn == template.resolve({"Fn::GetAtt": ["AuditAuthorizerFunction", "Arn"]}) + ":live"
    assert function_of_arn(template, alias_arn) == "AuditAuthorizerFunction"
    assert function_of_arn(template, alias_arn.removesuffix(":live")) == "AuditAuthorizerFunction"
    with pytest.raises(LookupError):
        function_of_arn(template, alias_arn.replace("AuditAuthorizerFunction", "Elsewhere"))

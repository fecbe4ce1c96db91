"""API Gateway REST (v1) events and authorizer policies, as the local gateway and tests need them.

The shapes follow what API Gateway sends to a Lambda proxy integration and to a REQUEST
authorizer, so a handler cannot tell the local stack from the cloud.
"""

from __future__ import annotations

import base64
import fnmatch
import ipaddress
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any

from dbguard_local.cfn import Template

API_ID = "local0api"
ACCOUNT_ID = "123456789012"
API_TYPE = "AWS::Serverless::Api"


def register_apis(template: Template) -> None:
    """Give every REST API its (single, local) id, so Ref and the routes' RestApiId resolve."""
    for logical_id, resource in template.resources.items():
        if resource["Type"] == API_TYPE:
            template.record(logical_id, API_ID, RootResourceId="local-root")


def _request_context(
    method: str, resource: str, path: str, stage: str, source_ip: str, authorizer: Mapping[str, Any] | None
) -> dict[str, Any]:
    now = time.time()
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "domainName": "127.0.0.1",
        "domainPrefix": "127",
        "extendedRequestId": uuid.uuid4().hex[:16],
        "httpMethod": method,
        "identity": {"sourceIp": source_ip, "userAgent": None, "caller": None, "user": None, "userArn": None},
        "path": f"/{stage}{path}",
        "protocol": "HTTP/1.1",
        "requestId": str(uuid.uuid4()),
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "requestTimeEpoch": int(now * 1000),
        "resourceId": "local",
        "resourcePath": resource,
        "stage": stage,
    }
    if authorizer is not None:
        context["authorizer"] = dict(authorizer)
    return context


def proxy_event(
    method: str,
    path: str,
    *,
    resource: str,
    stage: str = "v1",
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, list[str]] | None = None,
    path_parameters: Mapping[str, str] | None = None,
    body: bytes | None = None,
    source_ip: str = "127.0.0.1",
    authorizer: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A Lambda proxy integration event; a body that is not UTF-8 text arrives base64-encoded."""
    headers = dict(headers or {})
    query = dict(query or {})
    encoded_body, is_base64 = _encode_body(body)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers or None,
        "multiValueHeaders": {name: [value] for name, value in headers.items()} or None,
        "queryStringParameters": {name: values[-1] for name, values in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": _request_context(method, resource, path, stage, source_ip, authorizer),
        "body": encoded_body,
        "isBase64Encoded": is_base64,
    }


def _encode_body(body: bytes | None) -> tuple[str | None, bool]:
    if body is None:
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


def method_arn(region: str, stage: str, method: str, path: str) -> str:
    return f"arn:aws:execute-api:{region}:{ACCOUNT_ID}:{API_ID}/{stage}/{method}{path}"


def authorizer_event(request: dict[str, Any], region: str) -> dict[str, Any]:
    """The REQUEST authorizer event API Gateway builds from a proxy request."""
    context = request["requestContext"]
    return {
        "type": "REQUEST",
        "methodArn": method_arn(region, context["stage"], request["httpMethod"], request["path"]),
        "resource": request["resource"],
        "path": request["path"],
        "httpMethod": request["httpMethod"],
        "headers": request["headers"],
        "multiValueHeaders": request["multiValueHeaders"],
        "queryStringParameters": request["queryStringParameters"],
        "multiValueQueryStringParameters": request["multiValueQueryStringParameters"],
        "pathParameters": request["pathParameters"],
        "stageVariables": request["stageVariables"],
        "requestContext": {key: value for key, value in context.items() if key != "authorizer"},
    }


def policy_allows(policy_document: Mapping[str, Any], arn: str) -> bool:
    """IAM evaluation of an authorizer's policy for one method ARN: an explicit Deny wins."""
    allowed = False
    for statement in policy_document.get("Statement", []):
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if not any(fnmatch.fnmatchcase("execute-api:Invoke", action) for action in actions):
            continue
        if any(fnmatch.fnmatchcase(arn, resource) for resource in resources):
            if statement.get("Effect") == "Deny":
                return False
            allowed = True
    return allowed


def resource_policy_verdict(statements: list[Mapping[str, Any]], resource: str, source_ip: str) -> str | None:
    """What an API's resource policy says about an anonymous caller: "Deny", "Allow" or None (neither).

    `resource` is the short form API Gateway matches (`execute-api:/<stage>/<METHOD>/<path>`). An
    explicit Deny wins over any Allow. Only statements for every principal ("*") are evaluated, and
    only the source-IP conditions are understood: anything else raises, so it is noticed.
    """
    verdict = None
    for statement in statements:
        if statement.get("Principal") not in ("*", {"AWS": "*"}):
            continue
        actions = _as_list(statement.get("Action", []))
        if not any(fnmatch.fnmatchcase("execute-api:Invoke", action) for action in actions):
            continue
        patterns = _as_list(statement.get("Resource", []))
        if not any(_resource_matches(pattern, resource) for pattern in patterns):
            continue
        if not _source_ip_condition_holds(statement.get("Condition"), source_ip):
            continue
        if statement["Effect"] == "Deny":
            return "Deny"
        verdict = "Allow"
    return verdict


def _resource_matches(pattern: str, resource: str) -> bool:
    if pattern.startswith("arn:"):  # arn:aws:execute-api:<region>:<account>:<api id>/<stage>/<METHOD>/<path>
        pattern = "execute-api:/" + pattern.split("/", 1)[1] if "/" in pattern else pattern
    return re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), resource) is not None


def _source_ip_condition_holds(condition: Mapping[str, Any] | None, source_ip: str) -> bool:
    if not condition:
        return True
    address = ipaddress.ip_address(source_ip)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # an IPv4 client on a dual-stack socket: API Gateway sees IPv4
    for operator, tests in condition.items():
        if operator not in ("IpAddress", "NotIpAddress") or set(tests) != {"aws:SourceIp"}:
            unsupported = f"{operator} {sorted(tests)}"
            raise NotImplementedError(f"resource policy condition {unsupported}: not evaluated locally")
        networks = [ipaddress.ip_network(cidr, strict=False) for cidr in _as_list(tests["aws:SourceIp"])]
        inside = any(address.version == network.version and address in network for network in networks)
        if inside != (operator == "IpAddress"):
            return False
    return True


def _as_list(value: Any) -> list[Any]:
    return [value] if isinstance(value, (str, dict)) else list(value)

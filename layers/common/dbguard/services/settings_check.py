"""The stack's settings check (deployment.py): fail the stack's create or update, naming each
reason, when the rotation settings or JumpServer's own settings cannot keep a valid token in place,
or when token_rotation cannot even start; a stack delete is always answered as done. What does not
stop rotation but defeats its purpose - a JumpServer whose DB proxy accepts none of the tokens - is a
warning or, with RequireDbProxy=fail, a problem; warnings reach the stack output SettingsWarnings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, get_args

from dbguard.engines import EngineProfile
from dbguard.observability import logger
from dbguard.rotation.policy import (
    RequireDbProxy,
    RotationPolicy,
    ServerFindings,
    ServerSettings,
    server_findings,
)
from dbguard.validation import describe_error

if TYPE_CHECKING:  # built only when CloudFormation asks, at deployments (cold start)
    from dbguard.deployment import CustomResourceAnswers, CustomResourceRequest

SETTINGS_CHECK_ID = "dbguard-rotation-settings"  # the custom resource's physical id
WARNINGS_ATTRIBUTE = "Warnings"  # the custom resource's attribute (template output SettingsWarnings)
NO_WARNINGS = "none"


class SettingsCheck:
    def __init__(
        self,
        answers: CustomResourceAnswers,
        policy: RotationPolicy,
        server: ServerSettings,
        *,
        engines: Mapping[str, EngineProfile],
    ) -> None:
        self._answers = answers
        self._policy = policy
        self._server = server
        self._engines = engines

    def policy_problems(self) -> list[str]:
        """The rotation settings' own problems (no JumpServer request: checked at every cold start)."""
        return self._policy.problems()

    def findings(self, require_db_proxy: RequireDbProxy = "warn") -> ServerFindings:
        server = server_findings(self._server, self._engines, require_db_proxy)
        return ServerFindings(self.policy_problems() + server.problems, server.warnings)

    def answer(self, request: CustomResourceRequest) -> None:
        if request.request_type == "Delete":
            answer(self._answers, request, ServerFindings())
            return
        mode = request.properties.get("RequireDbProxy", "warn")
        if mode not in get_args(RequireDbProxy):
            refused = "RequireDbProxy must be warn or fail"
            answer(self._answers, request, ServerFindings([refused]))
            return
        answer(self._answers, request, self.findings(mode))


class StartupFailed:
    """The check when token_rotation could not start: CloudFormation gets that reason at once
    (otherwise it would wait an hour for an answer)."""

    def __init__(self, answers: CustomResourceAnswers, error: Exception) -> None:
        self._answers = answers
        self._error = error

    def answer(self, request: CustomResourceRequest) -> None:
        problems = (
            []
            if request.request_type == "Delete"
            else [f"token_rotation cannot start: {describe_error(self._error)}"]
        )
        answer(self._answers, request, ServerFindings(problems))


def answer(answers: CustomResourceAnswers, request: CustomResourceRequest, findings: ServerFindings) -> None:
    for problem in findings.problems:
        logger.error("rotation settings refused", extra={"problem": problem})
    for warning in findings.warnings:
        logger.warning("deployment warning", extra={"warning": warning})
    warnings = " | ".join(findings.warnings)
    if findings.problems:
        reason = " | ".join(findings.problems) + (f" | warnings: {warnings}" if warnings else "")
    else:
        reason = "rotation settings keep a valid token in place"
        if warnings:
            reason += f"; {len(findings.warnings)} warning(s), see the stack output SettingsWarnings"
    # a failed stack reads no attribute; a response over 4 KB is refused, so the reason keeps the room
    data = None if findings.problems else {WARNINGS_ATTRIBUTE: warnings[:2000] or NO_WARNINGS}
    answers.respond(
        request, success=not findings.problems, reason=reason, physical_id=SETTINGS_CHECK_ID, data=data
    )

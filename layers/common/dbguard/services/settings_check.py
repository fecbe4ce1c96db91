"""The stack's settings check (deployment.py): fail the stack's create or update, naming each
reason, when the rotation settings or JumpServer's own settings cannot keep a valid token in place,
or when token_rotation cannot even start; a stack delete is always answered as done."""

from __future__ import annotations

from dbguard.deployment import CustomResourceAnswers, CustomResourceRequest
from dbguard.observability import logger
from dbguard.rotation.policy import RotationPolicy, ServerSettings, server_problems
from dbguard.validation import describe_error

SETTINGS_CHECK_ID = "dbguard-rotation-settings"  # the custom resource's physical id


class SettingsCheck:
    def __init__(
        self, answers: CustomResourceAnswers, policy: RotationPolicy, server: ServerSettings
    ) -> None:
        self._answers = answers
        self._policy = policy
        self._server = server

    def policy_problems(self) -> list[str]:
        """The rotation settings' own problems (no JumpServer request: checked at every cold start)."""
        return self._policy.problems()

    def problems(self) -> list[str]:
        return self.policy_problems() + server_problems(self._server)

    def answer(self, request: CustomResourceRequest) -> None:
        problems = [] if request.request_type == "Delete" else self.problems()
        answer(self._answers, request, problems)


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
        answer(self._answers, request, problems)


def answer(answers: CustomResourceAnswers, request: CustomResourceRequest, problems: list[str]) -> None:
    for problem in problems:
        logger.error("rotation settings refused", extra={"problem": problem})
    reason = " | ".join(problems) or "rotation settings keep a valid token in place"
    answers.respond(request, success=not problems, reason=reason, physical_id=SETTINGS_CHECK_ID)

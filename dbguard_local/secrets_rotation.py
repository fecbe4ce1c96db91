"""Secrets Manager's RotateSecret as AWS runs it, for the embedded AWS (moto) of `make run`, the
tests, the chaos runs and the bench.

moto's own RotateSecret differs where dbguard depends on AWS's behaviour (moto 5.2.5,
moto/secretsmanager/models.py rotate_secret): it stamps LastRotatedDate when it is called, not when a
rotation completes; it makes the new version AWSCURRENT after the steps whatever they did; it accepts
a second rotation while the first one's AWSPENDING is unsettled (AWS refuses: "A previous rotation
isn't complete"); it ignores a rotation function it cannot find only after changing the secret; and
it runs the steps inside the request. This replacement, installed while `rotations(...)` is open:

- refuses a rotation while AWSPENDING is on another version than AWSCURRENT, as AWS does;
- stores the rotation function and `AutomaticallyAfterDays` (RotationEnabled, NextRotationDate),
  keeping the stored function when a call names none;
- labels a new version AWSPENDING — empty, or, when not rotating immediately, a copy of AWSCURRENT
  for the testSecret step AWS then runs, and removes afterwards;
- runs the steps (createSecret, setSecret, testSecret, finishSecret) asynchronously, as AWS does,
  through the function `functions(arn)` resolves (the local stack's workers; in tests, the functions
  a test loaded), stopping at the first step that fails;
- sets LastRotatedDate (and the next rotation date) only when finishSecret left AWSCURRENT on the new
  version: a successful rotation, the only kind that counts for AWS Security Hub's SecretsManager.4;
- keeps moto's pointer to the AWSCURRENT version where the label is (`current_follows_its_label`).
  moto answers GetSecretValue without a stage, and starts PutSecretValue's move of AWSCURRENT, from
  that pointer, and UpdateSecretVersionStage does not update it: after finishSecret moved the label,
  the next version written AWSCURRENT would leave two versions labelled AWSCURRENT.

A rotation function the resolver does not know: RotateSecret fails (ResourceNotFoundException) before
changing anything, as AWS does for a function that does not exist — except when only configuring
rotation (RotateImmediately false), which is recorded and its test step skipped, so tests that never
load token_rotation can still register databases.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.secretsmanager.exceptions import (
    InvalidParameterException,
    InvalidRequestException,
    ResourceNotFoundException,
    SecretNotFoundException,
)
from moto.secretsmanager.models import SecretsManagerBackend

Invoke = Callable[[dict[str, Any]], Any]
Resolver = Callable[[str], Invoke | None]  # a function ARN (perhaps qualified) -> how to invoke it
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
_LOG = logging.getLogger("dbguard_local.secrets_rotation")

_state = threading.Lock()
_resolvers: list[Resolver] = []
_running: list[threading.Thread] = []
_MOTOS_OWN = SecretsManagerBackend.rotate_secret
_MOTOS_OWN_MOVE = SecretsManagerBackend.update_secret_version_stage
_label_followers = 0


@contextmanager
def rotations(functions: Resolver) -> Iterator[None]:
    """While open, RotateSecret on the embedded AWS runs AWS's way, invoking `functions(arn)`."""
    with current_follows_its_label():
        with _state:
            if not _resolvers:
                SecretsManagerBackend.rotate_secret = _rotate_secret  # type: ignore[assignment]
            _resolvers.append(functions)
        try:
            yield
        finally:
            wait_until_idle()
            with _state:
                _resolvers.remove(functions)
                if not _resolvers:
                    SecretsManagerBackend.rotate_secret = _MOTOS_OWN  # type: ignore[method-assign]


@contextmanager
def current_follows_its_label() -> Iterator[None]:
    """While open, moving AWSCURRENT with UpdateSecretVersionStage moves moto's pointer with it."""
    global _label_followers
    with _state:
        if not _label_followers:
            SecretsManagerBackend.update_secret_version_stage = _move_stage  # type: ignore[method-assign]
        _label_followers += 1
    try:
        yield
    finally:
        with _state:
            _label_followers -= 1
            if not _label_followers:
                SecretsManagerBackend.update_secret_version_stage = _MOTOS_OWN_MOVE  # type: ignore[method-assign]


def _move_stage(
    backend: SecretsManagerBackend,
    secret_id: str,
    version_stage: str,
    remove_from_version_id: str,
    move_to_version_id: str,
) -> tuple[str, str]:
    answer = _MOTOS_OWN_MOVE(backend, secret_id, version_stage, remove_from_version_id, move_to_version_id)
    if version_stage == "AWSCURRENT" and move_to_version_id:
        backend.secrets[secret_id].set_default_version_id(move_to_version_id)
    return answer


def wait_until_idle(timeout: float = 60.0) -> None:
    """Until every rotation started so far has run its steps (tests look at the result)."""
    deadline = time.monotonic() + timeout
    while True:
        with _state:
            running = [thread for thread in _running if thread.is_alive()]
            _running[:] = running
        if not running:
            return
        running[0].join(max(0.0, deadline - time.monotonic()))
        if time.monotonic() >= deadline:
            return


def _resolve(arn: str) -> Invoke | None:
    with _state:
        resolvers = list(_resolvers)
    for resolver in reversed(resolvers):  # the innermost first
        invoke = resolver(arn)
        if invoke is not None:
            return invoke
    return None


def _rotate_secret(
    backend: SecretsManagerBackend,
    secret_id: str,
    client_request_token: str | None = None,
    rotation_lambda_arn: str | None = None,
    rotation_rules: dict[str, Any] | None = None,
    rotate_immediately: bool = True,
) -> str:
    if not backend._is_valid_identifier(secret_id):
        raise SecretNotFoundException()
    secret = backend.secrets[secret_id]
    if secret.is_deleted():
        raise InvalidRequestException(
            "You tried to perform the operation on a secret that's currently marked deleted."
        )
    stages = {
        stage: version for version, value in secret.versions.items() for stage in value["version_stages"]
    }
    if "AWSPENDING" in stages and stages["AWSPENDING"] != stages.get("AWSCURRENT"):
        raise InvalidRequestException(
            "A previous rotation isn't complete. That rotation will be reattempted."
        )
    function_arn = rotation_lambda_arn or secret.rotation_lambda_arn
    if not function_arn:
        raise InvalidRequestException("No Lambda rotation function ARN is associated with this secret.")
    invoke = _resolve(function_arn)
    if invoke is None and rotate_immediately:
        raise ResourceNotFoundException(f"Resource not found for ARN '{function_arn}'.")
    days = _days(rotation_rules) or secret.auto_rotate_after_days
    version_id = client_request_token or str(uuid.uuid4())
    pending: dict[str, Any] = {"createdate": int(time.time()), "version_id": version_id, "version_stages": []}
    if not rotate_immediately and secret.secret_string is not None:
        pending["secret_string"] = secret.secret_string
    secret.remove_version_stages_from_old_versions(["AWSPENDING"])
    pending["version_stages"] = ["AWSPENDING"]
    secret.versions[version_id] = pending
    secret.rotation_requested = True
    secret.rotation_lambda_arn = function_arn
    secret.auto_rotate_after_days = days
    secret.rotation_enabled = days > 0
    if invoke is None:
        _LOG.warning(
            "no local function for %s: RotateImmediately=false recorded, testSecret not run", function_arn
        )
        _drop_pending(secret, version_id)
    else:
        steps = STEPS if rotate_immediately else ("testSecret",)
        thread = threading.Thread(
            target=_run_steps, args=(secret, invoke, version_id, steps), name=f"rotate-{version_id[:8]}"
        )
        with _state:
            _running.append(thread)
        thread.start()
    answer: str = secret.to_short_dict(version_id=version_id)
    return answer


def _days(rotation_rules: dict[str, Any] | None) -> int:
    days = int((rotation_rules or {}).get("AutomaticallyAfterDays", 0))
    if days and not 1 <= days <= 1000:
        raise InvalidParameterException("RotationRules.AutomaticallyAfterDays must be within 1-1000.")
    return days


def _run_steps(secret: Any, invoke: Invoke, version_id: str, steps: tuple[str, ...]) -> None:
    for step in steps:
        try:
            invoke({"Step": step, "SecretId": secret.arn, "ClientRequestToken": version_id})
        except (
            BaseException
        ) as error:  # the invocation failed, or its runtime died: Secrets Manager stops here
            _LOG.warning("rotation step %s of %s failed: %s", step, secret.name, type(error).__name__)
            return
    if steps == ("testSecret",):
        _drop_pending(secret, version_id)  # only a test of the configuration: nothing rotated
        return
    if "AWSCURRENT" in secret.versions.get(version_id, {}).get("version_stages", []):
        now = int(time.time())
        secret.last_rotation_date = now
        if secret.auto_rotate_after_days:
            secret.next_rotation_date = now + secret.auto_rotate_after_days * 86400


def _drop_pending(secret: Any, version_id: str) -> None:
    version = secret.versions.get(version_id, {})
    if version.get("version_stages") == ["AWSPENDING"] and "secret_string" not in version:
        del secret.versions[version_id]
    elif "AWSPENDING" in version.get("version_stages", []):
        version["version_stages"].remove("AWSPENDING")
        if not version["version_stages"]:
            del secret.versions[version_id]

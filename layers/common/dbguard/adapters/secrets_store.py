"""Secrets Manager access for database secrets, version by version (secrets/ports.py
DatabaseSecretStore): moving AWSCURRENT makes Secrets Manager label the version it replaced
AWSPREVIOUS by itself."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from dbguard.adapters import aws
from dbguard.adapters.dynamodb import error_code
from dbguard.secrets.contract import DatabaseSecret
from dbguard.secrets.ports import (
    CURRENT,
    OWNER_TAG,
    PENDING,
    PREVIOUS,
    RotationConfig,
    RotationInProgress,
    SecretValueNotFound,
    SecretVersions,
)


class DatabaseSecrets:
    def __init__(self, secretsmanager: Any, prefix: str) -> None:
        self._client = secretsmanager
        self._prefix = prefix

    @classmethod
    def create(cls, prefix: str) -> DatabaseSecrets:
        return cls(aws.client("secretsmanager"), prefix)

    def name_of(self, database_name: str) -> str:
        return f"{self._prefix}/{database_name}"

    def versions(self, secret_id: str) -> SecretVersions | None:
        """Which version carries which label; None when the secret does not exist."""
        try:
            described = self._client.describe_secret(SecretId=secret_id)
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                return None
            raise
        tags = {tag["Key"]: tag["Value"] for tag in described.get("Tags", [])}
        labels: dict[str, str] = {}
        for version_id, stages in described.get("VersionIdsToStages", {}).items():
            for stage in stages:
                labels[stage] = version_id
        return SecretVersions(
            arn=described["ARN"],
            name=described["Name"],
            current=labels.get(CURRENT),
            previous=labels.get(PREVIOUS),
            pending=labels.get(PENDING),
            scheduled_for_deletion="DeletedDate" in described,
            owner=tags.get(OWNER_TAG),
            rotation_function=described.get("RotationLambdaARN")
            if described.get("RotationEnabled")
            else None,
        )

    def read(self, secret_id: str, version_id: str) -> DatabaseSecret:
        try:
            value = self._client.get_secret_value(SecretId=secret_id, VersionId=version_id)
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                raise SecretValueNotFound(f"{secret_id} has no value for version {version_id}") from None
            raise
        return DatabaseSecret.from_secret_string(value.get("SecretString") or "", secret_id)

    def create_secret(self, name: str, value: DatabaseSecret, version_id: str, tags: dict[str, str]) -> str:
        """A new secret whose first version (AWSCURRENT) is `value`; returns its ARN."""
        created = self._client.create_secret(
            Name=name,
            ClientRequestToken=version_id,
            SecretString=value.secret_string(),
            Description="dbguard: JumpServer connection token for this database (see docs/applications.md)",
            Tags=[{"Key": key, "Value": item} for key, item in tags.items()],
        )
        arn: str = created["ARN"]
        return arn

    def put_current(self, secret_id: str, version_id: str, value: DatabaseSecret) -> None:
        """Secrets Manager moves AWSCURRENT here and AWSPREVIOUS onto the version it left."""
        self._put(secret_id, version_id, value, CURRENT)

    def put_pending(self, secret_id: str, version_id: str, value: DatabaseSecret) -> None:
        self._put(secret_id, version_id, value, PENDING)

    def _put(self, secret_id: str, version_id: str, value: DatabaseSecret, label: str) -> None:
        self._client.put_secret_value(
            SecretId=secret_id,
            ClientRequestToken=version_id,
            SecretString=value.secret_string(),
            VersionStages=[label],
        )

    def promote(self, secret_id: str, version_id: str, current_version_id: str | None) -> None:
        """Make `version_id` AWSCURRENT (the replaced one becomes AWSPREVIOUS), then drop AWSPENDING."""
        move: dict[str, Any] = {"SecretId": secret_id, "VersionStage": CURRENT, "MoveToVersionId": version_id}
        if current_version_id and current_version_id != version_id:
            move["RemoveFromVersionId"] = current_version_id
        self._client.update_secret_version_stage(**move)
        self.discard_pending(secret_id, version_id)

    def discard_pending(self, secret_id: str, version_id: str) -> None:
        self._client.update_secret_version_stage(
            SecretId=secret_id, VersionStage=PENDING, RemoveFromVersionId=version_id
        )

    def start_rotation(
        self, secret_id: str, config: RotationConfig | None = None, *, immediately: bool = True
    ) -> str:
        request: dict[str, Any] = {"SecretId": secret_id, "RotateImmediately": immediately}
        if config is not None:
            request["RotationLambdaARN"] = config.function_arn
            request["RotationRules"] = {"AutomaticallyAfterDays": config.after_days}
        try:
            started = self._client.rotate_secret(**request)
        except ClientError as error:
            # "A previous rotation isn't complete. That rotation will be reattempted."
            if error_code(error) == "InvalidRequestException" and "previous rotation" in str(error).lower():
                raise RotationInProgress(f"{secret_id}: a previous rotation is not complete") from None
            raise
        version_id: str = started["VersionId"]
        return version_id

    def schedule_deletion(self, secret_id: str, recovery_days: int) -> None:
        try:
            self._client.delete_secret(SecretId=secret_id, RecoveryWindowInDays=recovery_days)
        except ClientError as error:
            # already scheduled: deleting again is refused, and the first request still stands
            if error_code(error) not in ("ResourceNotFoundException", "InvalidRequestException"):
                raise

    def restore(self, secret_id: str) -> None:
        self._client.restore_secret(SecretId=secret_id)

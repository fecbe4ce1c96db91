"""The database account JumpServer logs in with, read from the secret a CMDB event references.

The secret follows the RDS convention (JSON with at least `username` and `password`) and is bound to
the databases that may use it by its tag `dbguard:cmdb-ids`. Its content never reaches a log line or
an exception: errors name the secret's ARN and what is wrong with it.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from pydantic import ValidationError

from dbguard.adapters import aws
from dbguard.adapters.dynamodb import error_code
from dbguard.cmdb.inventory import DatabaseCredentials
from dbguard.errors import NeedsOperator, RejectedChange

_PERMANENT = ("ResourceNotFoundException", "AccessDeniedException", "InvalidRequestException")
BINDING_TAG = "dbguard:cmdb-ids"


class CredentialsNotUsable(RejectedChange, NeedsOperator):
    """The credentials secret a change names is not bound to its database, cannot be read, or does not
    hold credentials: an operator fixes the secret, then redrives the change."""


def _bound_ids(described: dict[str, Any]) -> set[str]:
    tags = {tag["Key"]: tag["Value"] for tag in described.get("Tags", [])}
    return set(tags.get(BINDING_TAG, "").split())


class CredentialsReader:
    def __init__(self, secretsmanager: Any) -> None:
        self._client = secretsmanager

    @classmethod
    def create(cls) -> CredentialsReader:
        return cls(aws.client("secretsmanager"))

    def read(self, secret_arn: str, cmdb_id: str) -> DatabaseCredentials:
        """The credentials, if the secret is bound to this database (BINDING_TAG lists its CMDB id):
        whoever may put a CMDB event must not be able to point a database at another one's secret."""
        try:
            described = self._client.describe_secret(SecretId=secret_arn)
            if cmdb_id not in _bound_ids(described):
                raise CredentialsNotUsable(
                    f"credentials secret {secret_arn} is not bound to {cmdb_id}",
                    fix=f"add {cmdb_id} to the secret's tag {BINDING_TAG} (space-separated CMDB ids) if this "
                    "database may use it, then redrive",
                )
            value = self._client.get_secret_value(SecretId=described["ARN"])
        except ClientError as error:
            if error_code(error) in _PERMANENT:
                raise CredentialsNotUsable(
                    f"credentials secret {secret_arn} cannot be read ({error_code(error)})",
                    fix="check the secret exists, is under CmdbCredentialsSecretPrefix and its key lets "
                    "dbguard decrypt it, then redrive",
                ) from None
            raise
        try:
            return DatabaseCredentials.model_validate_json(value.get("SecretString") or "")
        except ValidationError:
            raise CredentialsNotUsable(
                f"credentials secret {secret_arn} is not JSON with a non-empty 'username' and 'password'",
                fix="write the database account's username and password into the secret, then redrive",
            ) from None

"""What AWS Security Hub's SecretsManager.1 ("automatic rotation should be enabled") and
SecretsManager.4 ("rotated within N days") read of each database secret — RotationEnabled,
RotationLambdaARN, LastRotatedDate — on moto (with RotateSecret run AWS's way:
dbguard_local/secrets_rotation.py), after registration and after each rotation."""

from __future__ import annotations

import time

import boto3

from dbguard_local.secrets_rotation import wait_until_idle
from tests.world import register, template_parameters, world  # noqa: F401 - fixtures


def rotation_inputs(name: str = "billing-qhb-01") -> tuple[bool, str, int, float | None]:
    described = boto3.client("secretsmanager").describe_secret(SecretId=f"dbguard/db/{name}")
    last = described.get("LastRotatedDate")
    return (
        described.get("RotationEnabled", False),
        described.get("RotationLambdaARN", ""),
        described.get("RotationRules", {}).get("AutomaticallyAfterDays", 0),
        last.timestamp() if last else None,
    )


def test_a_registered_database_s_secret_is_rotated_by_dbguard_s_function_and_its_date_moves(
    world, load_function
):
    cmdb_sync = load_function("CmdbSyncFunction")
    rotation = load_function("TokenRotationFunction", CONSUMER_CACHE_SECONDS="0")
    function_arn = cmdb_sync.spec.environment["ROTATION_FUNCTION_ARN"]
    assert function_arn == f"arn:aws:lambda:eu-central-1:123456789012:function:{rotation.spec.name}"

    assert register(cmdb_sync, version=1) == {"batchItemFailures": []}
    wait_until_idle()  # Secrets Manager's test of the new configuration (testSecret) has run
    enabled, arn, days, last = rotation_inputs()
    assert (enabled, arn, days) == (True, function_arn, 26)  # SecretsManager.1 passes
    assert last is None  # rotated by no rotation yet: the first secret was written at registration

    rotated_at = []
    for _ in range(2):
        started = time.time()
        answer = rotation.invoke({"rotate": ["billing-qhb-01"]})
        assert [result["status"] for result in answer["results"]] == ["rotated"]
        wait_until_idle()  # as on AWS, the date is set once finishSecret has returned, after the run saw it
        rotated_at.append(rotation_inputs()[3])
        assert rotated_at[-1] is not None
        assert rotated_at[-1] >= int(started)  # SecretsManager.4 passes
        time.sleep(1.01)  # LastRotatedDate has a resolution of seconds
    assert rotated_at[1] > rotated_at[0]  # it moves on every rotation
    assert rotation_inputs()[:3] == (True, function_arn, 26)

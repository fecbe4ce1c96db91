"""The local stack's opt-in storage faults (dbguard_local/faults.py) as a WSGI middleware."""

import json

import pytest

from dbguard_local.faults import StorageFaultConfig, StorageFaultInjector


class Moto:
    """Stands in for moto's WSGI application: records the writes it applies."""

    def __init__(self, status: str = "200 OK") -> None:
        self.status, self.applied = status, []

    def __call__(self, environ, start_response):
        self.applied.append(environ.get("HTTP_X_AMZ_TARGET"))
        start_response(self.status, [("Content-Type", "application/x-amz-json-1.0"), ("x-amz-crc32", "1")])
        return [b'{"ok": true}']


def call(app, target="DynamoDB_20120810.PutItem"):
    answered = {}

    def start_response(status, headers):
        answered.update(status=status, headers=dict(headers))

    body = b"".join(app({"HTTP_X_AMZ_TARGET": target}, start_response))
    return answered["status"], answered["headers"], json.loads(body)


def test_off_unless_a_rate_is_set():
    assert not StorageFaultConfig.from_env({}).enabled
    assert StorageFaultConfig.from_env({"DBGUARD_FAULT_THROTTLE_RATE": "0.1"}).enabled


def test_rates_are_checked():
    with pytest.raises(ValueError, match="at most 1"):
        StorageFaultConfig.from_env(
            {"DBGUARD_FAULT_THROTTLE_RATE": "0.7", "DBGUARD_FAULT_AFTER_WRITE_RATE": "0.7"}
        )


def test_a_throttle_answers_before_the_write():
    moto = Moto()
    app = StorageFaultInjector(moto, StorageFaultConfig(throttle_rate=1.0))
    status, _, body = call(app)
    assert status.startswith("400")
    assert body["__type"].endswith("#ProvisionedThroughputExceededException")
    assert moto.applied == []
    assert app.counts.as_dict() == {"calls": 1, "throttled": 1, "failedAfterWrite": 0}


def test_a_failure_after_the_write_applies_it_and_answers_500():
    moto = Moto()
    app = StorageFaultInjector(moto, StorageFaultConfig(after_write_rate=1.0))
    status, _, body = call(app)
    assert status.startswith("500")
    assert body["__type"].endswith("#InternalServerError")
    assert moto.applied == ["DynamoDB_20120810.PutItem"]
    assert app.counts.failed_after_write == 1


def test_a_refused_write_is_answered_as_moto_answered_it():
    moto = Moto("400 Bad Request")  # e.g. the condition failed: nothing was written
    app = StorageFaultInjector(moto, StorageFaultConfig(after_write_rate=1.0))
    status, headers, _ = call(app)
    assert (status, headers["x-amz-crc32"]) == ("400 Bad Request", "1")
    assert app.counts.failed_after_write == 0


def test_other_operations_and_services_pass_untouched():
    moto = Moto()
    app = StorageFaultInjector(moto, StorageFaultConfig(throttle_rate=1.0))
    assert call(app, "DynamoDB_20120810.Scan")[0] == "200 OK"
    assert call(app, "secretsmanager.GetSecretValue")[0] == "200 OK"
    assert app.counts.calls == 0


def test_a_seed_gives_the_same_faults():
    def faults(seed):
        app = StorageFaultInjector(
            Moto(), StorageFaultConfig(throttle_rate=0.3, after_write_rate=0.3, seed=seed)
        )
        return [call(app)[0] for _ in range(40)]

    assert faults(7) == faults(7)
    assert faults(7) != faults(8)

"""The operators' rotation status in memory: each database's state, permission and dates from what the
registry holds, the most urgent first, and a query string refused without echoing it."""

from __future__ import annotations

import pytest

from dbguard.errors import InvalidQuery
from dbguard.registry.models import RegistryEntry
from dbguard.rotation.status import PermissionState, StatusQuery, StatusRules, TokenState
from dbguard.services.rotation_status import RotationStatus
from dbguard_testkit.fakes import FakeRegistry
from dbguard_testkit.registry_seed import PERMISSION_MISSING, UNAVAILABLE, registry_item

NOW = 1_800_000_000
HOUR, DAY = 3600, 86_400
RULES = StatusRules(window_seconds=7 * DAY, schedule_seconds=HOUR)


def entry(**changes) -> RegistryEntry:
    """A database whose token expires in 20 days, rotated 10 days ago, with `changes` (table names)."""
    values = {
        **registry_item(3, NOW),
        "currentTokenExpiresAt": NOW + 20 * DAY,
        "lastRotatedAt": NOW - 10 * DAY,
        **changes,
    }
    return RegistryEntry.model_validate({key: value for key, value in values.items() if value is not None})


@pytest.mark.parametrize(
    ("changes", "state"),
    [
        ({}, TokenState.OK),
        ({"currentTokenExpiresAt": NOW + 7 * DAY - 1}, TokenState.DUE),  # inside the window
        ({"currentTokenExpiresAt": NOW + 7 * DAY - HOUR}, TokenState.OVERDUE),  # a run should have come
        ({"lastRotationError": UNAVAILABLE}, TokenState.FAILING),
        ({"currentTokenExpiresAt": NOW, "lastRotationError": UNAVAILABLE}, TokenState.EXPIRED),
        ({"currentTokenExpiresAt": None, "currentTokenId": None, "lastRotatedAt": None}, TokenState.NO_TOKEN),
    ],
)
def test_the_state_follows_the_expiry_the_window_the_schedule_and_the_last_error(changes, state):
    assert RULES.status_of(entry(**changes), NOW).state is state


def test_dates_are_utc_and_next_due_is_the_expiry_minus_the_window():
    status = RULES.status_of(entry(currentTokenExpiresAt=1_800_864_000), NOW)
    assert status.token_expires_at == "2027-01-25T08:00:00Z"
    assert status.next_due_at == "2027-01-18T08:00:00Z"
    assert status.seconds_left == 864_000
    assert status.last_rotated_at == "2027-01-05T08:00:00Z"


@pytest.mark.parametrize(
    ("changes", "permission"),
    [
        ({}, PermissionState.CONFIRMED),
        ({"lastRotationError": PERMISSION_MISSING}, PermissionState.MISSING),
        ({"lastSyncError": "JumpServerPermissionMissing: ... perm_account_invalid"}, PermissionState.MISSING),
        (
            {"lastRotationError": "JumpServerAuthError: JumpServer answered HTTP 403 to ..."},
            PermissionState.DENIED,
        ),
        ({"lastRotationError": UNAVAILABLE}, PermissionState.UNKNOWN),
        ({"lastRotatedAt": None}, PermissionState.UNKNOWN),
    ],
)
def test_the_permission_state_is_what_the_last_errors_and_rotation_say(changes, permission):
    assert RULES.status_of(entry(**changes), NOW).permission is permission


def test_the_most_urgent_come_first_and_every_state_is_counted():
    registry = FakeRegistry()
    for index in range(40):
        item = registry_item(index, NOW)
        registry.items[item["cmdbId"]] = item
    answer = RotationStatus(registry, RULES, clock=lambda: NOW).report(StatusQuery(limit=12))

    assert answer.total == 40
    assert answer.counts == {
        TokenState.EXPIRED: 4, TokenState.NO_TOKEN: 4, TokenState.FAILING: 4,
        TokenState.OVERDUE: 4, TokenState.DUE: 4, TokenState.OK: 20,
    }  # fmt: skip
    states = [status.state for status in answer.databases]
    assert states == [TokenState.EXPIRED] * 4 + [TokenState.NO_TOKEN] * 4 + [TokenState.FAILING] * 4
    failing = [status for status in answer.databases if status.state is TokenState.FAILING]
    assert [status.seconds_left for status in failing] == sorted(status.seconds_left for status in failing)
    assert answer.generated_at == "2027-01-15T08:00:00Z"
    assert answer.window_seconds == 7 * DAY


def test_the_answer_uses_the_registrys_names():
    dumped = RULES.answer([entry()], NOW, 10).model_dump(mode="json", by_alias=True)
    assert set(dumped) == {"generatedAt", "windowSeconds", "total", "counts", "databases"}
    assert set(dumped["databases"][0]) == {
        "name", "cmdbId", "engine", "environment", "assetId", "state", "tokenExpiresAt", "secondsLeft",
        "nextDueAt", "lastRotatedAt", "lastRotationError", "lastSyncError", "permission",
    }  # fmt: skip
    assert "tok-3" not in str(dumped)  # token ids are connection user names: not for this answer


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"state": ["ok"]}, "unknown query parameter(s): state"),
        ({"limit": ["1", "2"]}, "give each parameter once: limit"),
        ({"limit": ["0"]}, "limit: "),
        ({"limit": ["s3cr3t-like"]}, "limit: "),
    ],
)
def test_a_bad_query_string_is_a_400_that_never_echoes_the_value(parameters, message):
    with pytest.raises(InvalidQuery, match=message.replace("(", r"\(").replace(")", r"\)")) as raised:
        StatusQuery.of_query_string(parameters)
    assert "s3cr3t-like" not in str(raised.value)


def test_the_limit_defaults_to_a_thousand():
    assert StatusQuery.of_query_string({}).limit == 1000
    assert StatusQuery.of_query_string({"limit": ["5"]}).limit == 5

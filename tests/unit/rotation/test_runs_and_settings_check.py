"""token_rotation's entry points in memory: a run's window, deadline margin and summary, how many
databases are in progress at once, the stack's settings check (also when the cold start failed),
and event parsing that never echoes a value."""

import time

import pytest

from dbguard.composition import token_rotation
from dbguard.composition.token_rotation import ColdStart
from dbguard.deployment import CustomResourceRequest
from dbguard.engines import DEFAULT_ENGINES
from dbguard.errors import ConfigurationError, InvalidInput
from dbguard.jumpserver import DbProxyOffer
from dbguard.rotation.on_demand import OnDemandRotation
from dbguard.rotation.policy import RotationPolicy
from dbguard.services.rotation_runner import RotationRunner, RunReport
from dbguard.services.settings_check import SettingsCheck, StartupFailed
from dbguard.validation import parse_event
from dbguard_testkit.fakes import FakeRegistry
from dbguard_testkit.samples import custom_resource_request

GOOD_POLICY = RotationPolicy("rate(1 hour)", 7 * 86400, 30 * 86400, 3600)
GAPPY_POLICY = RotationPolicy("rate(7 days)", 86400, 30 * 86400, 3600)


class RecordingRunner(RotationRunner):
    """The runner's run entry points over recorded rotations (the rotation itself: test_runner.py)."""

    def __init__(self) -> None:
        super().__init__(registry=FakeRegistry(), rotator=None, databases_at_once=1)  # type: ignore[arg-type]
        self.calls: list[tuple] = []

    def rotate_due(self, expiring_before, has_time):
        self.calls.append(("due", expiring_before, has_time))
        return RunReport(deferred=["later-db"], not_due=4)

    def rotate_named(self, names, has_time, *, force=False):
        self.calls.append(("named", names, has_time, force))
        return RunReport()


ALL_PROTOCOLS = frozenset(profile.protocol for profile in DEFAULT_ENGINES.values())
LICENSED = DbProxyOffer(ALL_PROTOCOLS, license_valid=True, magnus_enabled=True)
V4_COMMUNITY = DbProxyOffer(frozenset(), license_valid=False, magnus_enabled=True)  # v4.1+
V3_COMMUNITY = DbProxyOffer(
    frozenset({"mysql", "mariadb", "redis"}), license_valid=False, magnus_enabled=True
)


class JumpServer:
    def __init__(self, reusable: bool, db_proxy: DbProxyOffer | Exception = LICENSED) -> None:
        self.reusable = reusable
        self.db_proxy = db_proxy

    def reusable_tokens_enabled(self) -> bool:
        if isinstance(self.db_proxy, Exception):
            raise self.db_proxy
        return self.reusable

    def db_proxy_offer(self) -> DbProxyOffer:
        if isinstance(self.db_proxy, Exception):
            raise self.db_proxy
        return self.db_proxy


class Answers:
    """What CloudFormation is told, instead of a PUT to the pre-signed URL."""

    def __init__(self) -> None:
        self.sent: list[dict] = []

    def respond(self, request, **answer) -> None:
        self.sent.append({"type": request.request_type, **answer})


def request(kind: str, **properties) -> CustomResourceRequest:
    return CustomResourceRequest.model_validate(
        custom_resource_request(kind, "https://s3.example.com/r", **properties)
    )


def check(answers, policy=GOOD_POLICY, **server) -> SettingsCheck:
    return SettingsCheck(answers, policy, JumpServer(**server), engines=DEFAULT_ENGINES)


def test_a_scheduled_run_asks_for_what_expires_within_the_window_and_stops_at_the_margin():
    runner, remaining_ms = RecordingRunner(), [30_001]
    answer = runner.run_due(lambda: remaining_ms[0])
    [(_, expiring_before, has_time)] = runner.calls
    assert abs(expiring_before - (time.time() + 7 * 86400)) < 5
    assert has_time() is True
    remaining_ms[0] = 30_000  # ROTATION_DEADLINE_MARGIN_SECONDS: 30 by default
    assert has_time() is False
    assert (answer["rotated"], answer["not_due"], answer["deferred"], answer["results"]) == (
        0,
        4,
        ["later-db"],
        [],
    )


def test_an_on_demand_run_rotates_the_names_asked_for_with_force():
    runner = RecordingRunner()
    runner.run_named(OnDemandRotation(rotate=["billing"], force=True), lambda: 60_000)
    [(_, names, _, force)] = runner.calls
    assert (names, force) == (["billing"], True)


def test_the_settings_check_refuses_settings_that_leave_a_gap_and_a_server_without_reusable_tokens():
    answers = Answers()
    check(answers, reusable=True).answer(request("Create"))
    check(answers, GAPPY_POLICY, reusable=False).answer(request("Update"))
    assert [answer["success"] for answer in answers.sent] == [True, False]
    assert answers.sent[0]["data"] == {"Warnings": "none"}
    assert "RotationWindowSeconds (86400)" in answers.sent[1]["reason"]
    assert "CONNECTION_TOKEN_REUSABLE" in answers.sent[1]["reason"]


def test_a_community_v4_without_a_db_proxy_is_a_warning_or_by_require_db_proxy_a_failure():
    answers = Answers()
    check(answers, reusable=True, db_proxy=V4_COMMUNITY).answer(request("Create"))
    check(answers, reusable=True, db_proxy=V4_COMMUNITY).answer(request("Update", RequireDbProxy="fail"))
    warned, failed = answers.sent
    assert warned["success"] is True
    assert "1 warning(s), see the stack output SettingsWarnings" in warned["reason"]
    [warning] = warned["data"]["Warnings"].split(" | ")
    assert warning.startswith("JumpServer offers no DB proxy at all: its connect methods list db_guide")
    assert "XPACK_LICENSE_IS_VALID is false" in warning
    assert failed["success"] is False
    assert failed["reason"] == warning
    assert failed["data"] is None


def test_a_community_v3_proxies_mysql_but_not_postgresql_and_a_disabled_magnus_nothing():
    answers = Answers()
    check(answers, reusable=True, db_proxy=V3_COMMUNITY).answer(request("Create"))
    disabled = DbProxyOffer(frozenset(), license_valid=True, magnus_enabled=False)
    check(answers, reusable=True, db_proxy=disabled).answer(request("Create"))
    v3, off = (answer["data"]["Warnings"] for answer in answers.sent)
    assert "no connection token for oracle (engines oracle); postgresql (engines postgres" in v3
    assert "mysql" not in v3.split(":")[0]
    assert "its connect methods list db_guide (Magnus) for mariadb, mysql, redis only." in v3
    assert "TERMINAL_MAGNUS_ENABLED is false" in off


def test_a_server_that_cannot_be_asked_is_a_warning_not_a_failure():
    answers = Answers()
    check(answers, reusable=True, db_proxy=ConnectionError("refused")).answer(request("Create"))
    [answer] = answers.sent
    assert answer["success"] is True
    assert answer["data"]["Warnings"] == "JumpServer's DB proxy not checked: ConnectionError: refused"


def test_an_unknown_require_db_proxy_is_refused_without_echoing_it():
    answers = Answers()
    check(answers, reusable=True).answer(request("Create", RequireDbProxy="maybe-s3cret"))
    [answer] = answers.sent
    assert (answer["success"], answer["reason"]) == (False, "RequireDbProxy must be warn or fail")


def test_a_cold_start_that_failed_still_answers_the_settings_check_and_raises_for_anything_else(monkeypatch):
    def broken():
        raise ConfigurationError("TokenRotationSettings: invalid or missing: JUMPSERVER_URL: Field required")

    monkeypatch.setattr(token_rotation, "compose", broken)
    cold_start = ColdStart.attempt()
    check = cold_start.settings_check()
    assert isinstance(check, StartupFailed)
    answers = Answers()
    check = StartupFailed(answers, cold_start.outcome)
    check.answer(request("Create"))
    check.answer(request("Delete"))
    assert [(answer["type"], answer["success"]) for answer in answers.sent] == [
        ("Create", False),
        ("Delete", True),
    ]
    assert answers.sent[0]["reason"].startswith("token_rotation cannot start: ConfigurationError: ")
    with pytest.raises(ConfigurationError, match="JUMPSERVER_URL"):
        cold_start.parts()


def test_parse_names_what_is_wrong_without_echoing_it():
    with pytest.raises(InvalidInput, match="invalid on-demand rotation request: force") as raised:
        parse_event(OnDemandRotation, {"rotate": ["db"], "force": "s3cr3t-ish"}, "on-demand rotation request")
    assert "s3cr3t-ish" not in str(raised.value)
    assert [problem.field for problem in raised.value.problems] == ["force"]


@pytest.mark.parametrize(
    ("days", "refused"),
    [(26, False), (24, False), (23, True), (30, True), (40, True)],
    ids=["default", "just after the first run that finds it due", "before it is due", "at expiry", "after"],
)
def test_secrets_manager_s_own_schedule_must_come_after_dbguard_s_and_before_expiry(days, refused):
    """30-day tokens, due with 7 days left, found by an hourly run within the hour after (23 d 1 h)."""
    policy = RotationPolicy("rate(1 hour)", 7 * 86400, 30 * 86400, 3600, secrets_manager_days=days)
    assert any("SecretsManagerRotationDays" in problem for problem in policy.problems()) is refused

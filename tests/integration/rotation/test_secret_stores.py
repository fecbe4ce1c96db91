"""Secrets Manager's rules for a database secret's versions and labels, held by the adapter (against
moto) and by the in-memory fake the unit tests use (dbguard_testkit/fakes/secrets.py) alike: the same test
against both keeps the fake faithful."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import boto3
import pytest
from pydantic import SecretStr

from dbguard.adapters.secrets_store import DatabaseSecrets
from dbguard.errors import SecretUnreadable
from dbguard.secrets.contract import DatabaseSecret
from dbguard.secrets.ports import OWNER_TAG, SecretValueNotFound
from dbguard_testkit.fakes import FakeSecrets

NAME = "dbguard/db/billing-qhb-01"


@pytest.fixture(params=["secrets manager", "in-memory fake"])
def store(request):
    if request.param == "in-memory fake":
        return FakeSecrets("dbguard/db")
    request.getfixturevalue("aws")
    return DatabaseSecrets(boto3.client("secretsmanager"), "dbguard/db")


def value(token_id: str) -> DatabaseSecret:
    return DatabaseSecret(
        engine="postgres", host="proxy.example", port=54320, dbname="billing", username=token_id,
        password=SecretStr(f"value-of-{token_id}"), expires_at=datetime(2026, 2, 1, tzinfo=UTC),
        jumpserver_asset_id="asset-1", token_id=token_id,
    )  # fmt: skip


def new_secret(store) -> tuple[str, str, str]:
    """A secret with its first version; its ARN, that version's id and an id for the next one."""
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    arn = store.create_secret(NAME, value("tok-1"), first, {"app": "dbguard", OWNER_TAG: "cmdb-1"})
    return arn, first, second


def test_a_secret_s_name_comes_from_its_database_and_its_owner_from_its_tag(store):
    assert store.name_of("billing-qhb-01") == NAME
    new_secret(store)
    assert store.versions(NAME).owner == "cmdb-1"
    store.create_secret("dbguard/db/foreign", value("tok-2"), str(uuid.uuid4()), {"app": "other"})
    assert store.versions("dbguard/db/foreign").owner is None


def raw_secret(store, name: str, text: str, tags: dict[str, str]) -> str:
    """A secret written by someone else (or edited by hand): any text as its value."""
    if isinstance(store, FakeSecrets):
        return store.create_raw(name, text, tags)
    tag_list = [{"Key": key, "Value": item} for key, item in tags.items()]
    return boto3.client("secretsmanager").create_secret(Name=name, SecretString=text, Tags=tag_list)["ARN"]


MARKER = "Marker-Pa55word-9f3c"


@pytest.mark.parametrize(
    "text",
    [
        f'{{"username": "app", "password": "{MARKER}"}}',  # an RDS-style secret: no token fields
        f"{MARKER} is not JSON",
        f'{{"engine": "postgres", "host": "h", "port": "{MARKER}", "dbname": "d", "username": "u", '
        f'"password": "{MARKER}", "expires_at": "never", "jumpserver_asset_id": "a", "token_id": "t"}}',
    ],
    ids=["other fields", "not JSON", "wrong types"],
)
def test_a_value_that_is_no_dbguard_secret_is_refused_naming_fields_never_the_value(store, text):
    arn = raw_secret(store, "dbguard/db/edited", text, {OWNER_TAG: "cmdb-1"})
    with pytest.raises(SecretUnreadable) as refused:
        store.read(arn, store.versions(arn).current)
    assert MARKER not in str(refused.value)
    assert "dbguard/db/edited" in str(refused.value) or arn in str(refused.value)


def test_a_new_secret_s_first_version_is_current(store):
    arn, first, _ = new_secret(store)

    versions = store.versions(NAME)

    assert (versions.arn, versions.name) == (arn, NAME)
    assert (versions.current, versions.previous, versions.pending) == (first, None, None)
    assert store.read(arn, first).token_id == "tok-1"
    assert store.versions("dbguard/db/nobody") is None
    with pytest.raises(Exception):  # noqa: B017, PT011 - the service's own error: a name is taken once
        store.create_secret(NAME, value("tok-9"), str(uuid.uuid4()), {})


def test_a_pending_version_promoted_makes_the_current_one_previous(store):
    arn, first, second = new_secret(store)

    store.put_pending(arn, second, value("tok-2"))
    store.put_pending(arn, second, value("tok-2"))  # a retried write of the same value
    assert (store.versions(arn).current, store.versions(arn).pending) == (first, second)
    store.promote(arn, second, first)

    versions = store.versions(arn)
    assert (versions.current, versions.previous, versions.pending) == (second, first, None)
    assert store.read(arn, second).token_id == "tok-2"


def test_a_version_written_as_current_makes_the_current_one_previous(store):
    arn, first, second = new_secret(store)

    store.put_current(arn, second, value("tok-2"))
    store.put_current(arn, second, value("tok-2"))  # a retried write of the same value changes nothing
    versions = store.versions(arn)
    assert (versions.current, versions.previous, versions.pending) == (second, first, None)

    third = str(uuid.uuid4())
    store.put_current(arn, third, value("tok-3"))
    versions = store.versions(arn)
    assert (versions.current, versions.previous) == (third, second)  # AWSPREVIOUS left the first
    assert store.read(arn, first).token_id == "tok-1"  # its value stays, unlabelled
    with pytest.raises(Exception):  # noqa: B017, PT011 - a version's value never changes
        store.put_current(arn, third, value("tok-4"))
    assert store.read(arn, third).token_id == "tok-3"


def test_a_version_written_as_current_after_a_label_move_makes_the_moved_one_previous(store):
    arn, first, second = new_secret(store)
    store.put_pending(arn, second, value("tok-2"))
    store.promote(arn, second, first)  # as Secrets Manager's own rotation does, in finishSecret
    third = str(uuid.uuid4())

    store.put_current(arn, third, value("tok-3"))

    versions = store.versions(arn)
    assert (versions.current, versions.previous, versions.pending) == (third, second, None)


def test_a_discarded_pending_version_loses_its_label_not_its_value(store):
    arn, _, second = new_secret(store)
    store.put_pending(arn, second, value("tok-2"))

    store.discard_pending(arn, second)

    assert store.versions(arn).pending is None
    assert store.read(arn, second).token_id == "tok-2"
    with pytest.raises(Exception):  # noqa: B017, PT011 - it no longer carries the label
        store.discard_pending(arn, second)


def test_moving_current_needs_the_version_it_leaves(store):
    arn, first, second = new_secret(store)
    store.put_pending(arn, second, value("tok-2"))

    with pytest.raises(Exception):  # noqa: B017, PT011
        store.promote(arn, second, None)

    assert store.versions(arn).current == first


def test_a_version_without_a_value_is_not_found(store):
    arn, _, _ = new_secret(store)

    with pytest.raises(SecretValueNotFound):
        store.read(arn, str(uuid.uuid4()))


def test_a_secret_scheduled_for_deletion_is_described_not_read_until_restored(store):
    arn, first, _ = new_secret(store)

    store.schedule_deletion(arn, 7)
    store.schedule_deletion(arn, 7)  # already scheduled: the first request stands

    assert store.versions(arn).scheduled_for_deletion
    with pytest.raises(Exception):  # noqa: B017, PT011
        store.read(arn, first)
    store.restore(arn)
    assert not store.versions(arn).scheduled_for_deletion
    assert store.read(arn, first).token_id == "tok-1"

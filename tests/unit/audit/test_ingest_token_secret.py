"""The ingest token secret as the authorizer reads it: checked once per value the cache hands out."""

import pytest

from dbguard.adapters import ingest_token_secret
from dbguard.adapters.ingest_token_secret import IngestTokenSecret
from dbguard.errors import ConfigurationError

TOKEN = "current-ingest-token-aaaaaaaaaaaaaaaaaaaaaaa"
ROTATED = "rotated-ingest-token-bbbbbbbbbbbbbbbbbbbbbbb"


@pytest.fixture
def stored(monkeypatch):
    """What Powertools' cache answers: the same object until it reads the secret again."""
    value = {"current": {"tokens": [TOKEN]}}
    monkeypatch.setattr(ingest_token_secret.parameters, "get_secret", lambda *_, **__: value["current"])
    return value


def test_the_same_cached_secret_is_checked_once(stored, monkeypatch):
    secret = IngestTokenSecret("arn:secret", 60)
    first = secret.tokens(fresh=False)
    monkeypatch.setattr(ingest_token_secret, "_checked", lambda _: pytest.fail("checked again"))
    assert secret.tokens(fresh=False) is first
    assert first.slot_of(TOKEN) == 0


def test_a_secret_read_again_is_checked_again(stored):
    secret = IngestTokenSecret("arn:secret", 60)
    assert secret.tokens(fresh=False).slot_of(ROTATED) is None
    stored["current"] = {"tokens": [TOKEN, ROTATED]}
    assert secret.tokens(fresh=True).slot_of(ROTATED) == 1
    stored["current"] = {"tokens": []}
    with pytest.raises(ConfigurationError, match="ingest token secret is malformed") as raised:
        secret.tokens(fresh=True)
    assert TOKEN not in str(raised.value)

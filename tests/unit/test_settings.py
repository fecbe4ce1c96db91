import pytest

from dbguard.composition.settings import Settings
from dbguard.errors import ConfigurationError


def test_reads_typed_values_from_the_environment():
    settings = Settings.from_env(
        "audit_table_name", environ={"AUDIT_TABLE_NAME": "events", "AUDIT_RETENTION_DAYS": "30"}
    )
    assert settings.audit_table_name == "events"
    assert settings.audit_retention_days == 30


def test_names_every_missing_required_variable():
    with pytest.raises(ConfigurationError) as raised:
        Settings.from_env("audit_table_name", "ingest_token_secret_arn", environ={})
    assert "AUDIT_TABLE_NAME" in str(raised.value)
    assert "INGEST_TOKEN_SECRET_ARN" in str(raised.value)


def test_an_empty_variable_counts_as_missing():
    with pytest.raises(ConfigurationError, match="AUDIT_TABLE_NAME"):
        Settings.from_env("audit_table_name", environ={"AUDIT_TABLE_NAME": ""})


def test_rejects_an_out_of_range_value_without_echoing_it():
    with pytest.raises(ConfigurationError) as raised:
        Settings.from_env(environ={"MAX_REQUEST_BYTES": "987654321"})
    assert "MAX_REQUEST_BYTES" in str(raised.value)
    assert "987654321" not in str(raised.value)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://jumpserver.example.com", True),
        ("http://jumpserver.example.com", False),
        ("http://10.0.0.5:8080", False),
        ("http://127.0.0.1:8080", True),  # local development and tests
        ("http://localhost:8080", True),
        ("http://[::1]:8080", True),
    ],
)
def test_a_plain_http_jumpserver_is_refused_unless_allowed(url, allowed):
    if allowed:
        assert Settings.from_env(environ={"JUMPSERVER_URL": url}).jumpserver_url == url
        return
    with pytest.raises(ConfigurationError, match=r"JUMPSERVER_URL uses http://.*AllowInsecureJumpServer"):
        Settings.from_env(environ={"JUMPSERVER_URL": url})
    permitted = {"JUMPSERVER_URL": url, "ALLOW_INSECURE_JUMPSERVER": "true"}
    assert Settings.from_env(environ=permitted).jumpserver_url == url

"""Each audit function reads exactly its variables; a missing or invalid one fails init by name."""

import pytest

from dbguard.composition.audit_authorizer import AuditAuthorizerSettings
from dbguard.composition.audit_ingest import AuditIngestSettings
from dbguard.composition.audit_query import AuditQuerySettings
from dbguard.errors import ConfigurationError

INGEST = {"AUDIT_TABLE_NAME": "events", "DIRECT_CONNECTION_DEAD_LETTER_QUEUE_URL": "https://sqs.example/dlq"}


def test_defaults_apply_when_only_the_required_variables_are_set():
    ingest = AuditIngestSettings.load(INGEST)
    assert (ingest.audit_retention_days, ingest.max_request_bytes, ingest.ingest_retry_after_seconds) == (
        365, 1_048_576, 5,
    )  # fmt: skip
    query = AuditQuerySettings.load({"AUDIT_TABLE_NAME": "events", "QUERY_CURSOR_SECRET_ARN": "arn:cursor"})
    assert (query.audit_table_name, query.ingest_retry_after_seconds) == ("events", 5)
    assert AuditAuthorizerSettings.load({"INGEST_TOKEN_SECRET_ARN": "arn:t"}).ingest_token_cache_seconds == 60


@pytest.mark.parametrize(
    ("settings", "environment", "named"),
    [
        (AuditIngestSettings, {"AUDIT_TABLE_NAME": "events"}, "DIRECT_CONNECTION_DEAD_LETTER_QUEUE_URL"),
        (AuditIngestSettings, {**INGEST, "AUDIT_TABLE_NAME": ""}, "AUDIT_TABLE_NAME"),
        (AuditIngestSettings, {**INGEST, "MAX_REQUEST_BYTES": "987654321"}, "MAX_REQUEST_BYTES"),
        (AuditQuerySettings, {"AUDIT_TABLE_NAME": "events"}, "QUERY_CURSOR_SECRET_ARN"),
        (AuditAuthorizerSettings, {}, "INGEST_TOKEN_SECRET_ARN"),
        (AuditAuthorizerSettings, {"INGEST_TOKEN_SECRET_ARN": "a", "INGEST_TOKEN_CACHE_SECONDS": "-1"},
         "INGEST_TOKEN_CACHE_SECONDS"),
    ],
)  # fmt: skip
def test_a_missing_or_invalid_variable_fails_naming_it(settings, environment, named):
    with pytest.raises(ConfigurationError, match=named):
        settings.load(environment)

"""dbguard's AWS clients (dbguard/adapters/aws.py): botocore's own models for dbguard's services,
found without listing every service botocore ships."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import get_args

import botocore
import pytest
from botocore.exceptions import UnknownServiceError
from botocore.session import get_session

from dbguard.adapters import aws


@pytest.fixture(autouse=True)
def fresh_session(monkeypatch):
    """Each test its own process-wide session, as a new Lambda environment would have."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    aws._session.cache_clear()
    yield
    aws._session.cache_clear()


@pytest.mark.parametrize("service", get_args(aws.Service))
def test_each_of_dbguard_s_services_gets_the_model_botocore_would_load(service):
    ours = aws.client(service).meta.service_model
    botocores = get_session().create_client(service, region_name="eu-central-1").meta.service_model
    assert ours.api_version == botocores.api_version
    assert ours.operation_names == botocores.operation_names


def test_a_client_made_on_first_use_is_the_same_service_s():
    assert aws.client_on_first_use("kms").meta.service_model.service_name == "kms"


def test_another_service_is_refused_naming_dbguard_s():
    with pytest.raises(UnknownServiceError) as refused:
        aws.client("sts")  # type: ignore[arg-type]  # mypy refuses it too: Service names the services
    assert "dynamodb, events, kms, s3, secretsmanager, sqs" in str(refused.value)


def test_the_services_are_found_without_listing_botocore_s_data(monkeypatch):
    data = Path(botocore.__file__).parent / "data"
    listed = []
    real_listdir = aws.os.listdir
    monkeypatch.setattr(aws.os, "listdir", lambda path: listed.append(Path(path)) or real_listdir(path))
    aws.client("dynamodb")
    assert listed, "the loader did not look in the services' directories"
    assert data not in listed


def test_a_model_in_aws_data_path_comes_first_as_in_botocore(tmp_path, monkeypatch):
    """AWS_DATA_PATH (e.g. a newer model shipped beside the function) still wins over botocore's."""
    shipped = Path(botocore.__file__).parent / "data" / "dynamodb" / "2012-08-10" / "service-2.json.gz"
    model = json.loads(gzip.decompress(shipped.read_bytes()))
    model["metadata"]["apiVersion"] = "2099-01-01"
    newer = tmp_path / "dynamodb" / "2099-01-01"
    newer.mkdir(parents=True)
    (newer / "service-2.json").write_text(json.dumps(model))
    shutil.copy(shipped.with_name("endpoint-rule-set-1.json.gz"), newer)
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    assert aws.client("dynamodb").meta.service_model.api_version == "2099-01-01"

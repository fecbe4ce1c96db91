import json
import signal

import pytest
import requests

from dbguard_testkit.samples import body_of, connection_event, ddl_event, direct_connection_event
from tests.integration.conftest import processes_in_session, start_stack

pytestmark = pytest.mark.integration


def post(url, body: bytes):
    return requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=30)


def test_events_posted_over_http_are_stored_exactly_once(running_stack):
    url = running_stack.ingest_url
    first = post(url, body_of(connection_event(Datetime=1_785_111_000_000)))
    assert first.status_code == 201
    retry = post(url, body_of(connection_event(Datetime=1_785_111_000_000)))
    assert retry.status_code == 200
    assert retry.json() == {"id": first.json()["id"], "duplicate": True}
    batch = post(url, body_of([ddl_event(Datetime=1_785_111_000_001), ddl_event(Datetime=1_785_111_000_001)]))
    assert batch.status_code == 201
    assert [r["duplicate"] for r in batch.json()["results"]] == [False, True]
    table = running_stack.aws_client("dynamodb").describe_table(TableName="dbguard-local-AuditEventsTable")
    assert {index["IndexName"] for index in table["Table"]["GlobalSecondaryIndexes"]} == {
        "byTime",
        "byUser",
        "byName",
        "byService",
        "byDatabase",
        "byNode",
        "byDirect",
        "byStoredHour",
    }  # created from template.yaml's own definition
    ids = {first.json()["id"], batch.json()["results"][0]["id"]}
    dynamodb = running_stack.aws_client("dynamodb")
    for event_id in ids:
        item = dynamodb.get_item(TableName="dbguard-local-AuditEventsTable", Key={"id": {"S": event_id}})
        assert json.loads(item["Item"]["raw"]["S"])["serviceName"] == "qhb-billing-01"


def test_the_gateway_enforces_the_authorizer(running_stack):
    url = running_stack.ingest_url
    without_token = url.split("?")[0]
    wrong_token = without_token + "?token=" + "x" * 48
    assert post(without_token, body_of(connection_event())).status_code == 401
    denied = post(wrong_token, body_of(connection_event()))
    assert denied.status_code == 403
    assert denied.json()["msg"]


def test_bad_input_is_a_4xx_through_the_gateway(running_stack):
    url = running_stack.ingest_url
    assert post(url, b"not json").status_code == 400
    assert post(url, body_of({"name": "half"})).status_code == 422
    unknown = requests.get(url.replace("/audit/events", "/nowhere"), timeout=10)
    assert unknown.status_code == 403
    assert unknown.json() == {"msg": "Missing Authentication Token", "errors": []}


def test_the_token_is_printed_once_in_the_banner_and_never_logged(running_stack):
    token = running_stack.ingest_url.split("token=")[1]
    post(running_stack.ingest_url, body_of(connection_event(Datetime=1_785_111_000_999)))
    post(running_stack.ingest_url.split("?")[0] + "?token=" + token[:-1] + "Q", b"{}")
    after = running_stack.output_after_banner()
    assert '"type": "api-access"' in after
    assert token not in after
    assert token[:-1] not in after


def test_ctrl_c_stops_everything_and_a_second_run_starts_at_once_empty_with_a_new_token():
    """As the README says: each `make run` starts empty and prints a new token."""
    stack = start_stack()
    session = stack.process.pid
    assert len(processes_in_session(session)) >= 3  # the stack and its function workers
    assert post(stack.ingest_url, body_of(ddl_event(Datetime=1_785_555_000_000))).status_code == 201
    assert stack.stop() == 0
    assert processes_in_session(session, settle_seconds=5) == []
    again = start_stack()
    try:
        assert again.ingest_url.split("token=")[1] != stack.ingest_url.split("token=")[1]
        base = again.ingest_url.split("?")[0]
        assert signed_get(f"{base}?from=1785554000000&to=1785556000000").json()["events"] == []
        assert post(again.ingest_url, body_of(connection_event())).status_code == 201
    finally:
        again.process.send_signal(signal.SIGTERM)
        assert again.process.wait(timeout=30) == 0
    assert processes_in_session(again.process.pid, settle_seconds=5) == []


def signed_get(url: str, credentials=("testing", "testing")):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="GET", url=url)
    SigV4Auth(Credentials(*credentials), "execute-api", "eu-central-1").add_auth(request)
    return requests.get(url, headers=dict(request.headers), timeout=30)


def test_events_are_queried_back_with_sigv4_only(running_stack):
    post(running_stack.ingest_url, body_of(ddl_event(Datetime=1_785_222_000_000, userLogin="query_me")))
    base = running_stack.ingest_url.split("?")[0]
    url = f"{base}?userLogin=query_me&from=1785221000000&to=1785223000000"
    answer = signed_get(url)
    assert answer.status_code == 200, answer.text
    (found,) = answer.json()["events"]
    assert found["event"]["userLogin"] == "query_me"
    assert signed_get(f"{base}/{found['id']}").json()["id"] == found["id"]
    assert requests.get(url, timeout=30).status_code == 403  # unsigned
    assert signed_get(url, ("testing", "not-the-secret")).status_code == 403
    assert signed_get(url, ("someone-else", "testing")).status_code == 403


def test_a_direct_connection_is_announced_where_the_banner_says(running_stack):
    """`make run` flags the sample direct connection and routes its announcement to a local queue."""
    queue_url = running_stack.banner_value(r"make direct-announcements +\(the local queue (\S+)\)")
    answer = post(running_stack.ingest_url, body_of(direct_connection_event(Datetime=1_785_333_000_000)))
    assert answer.status_code == 201
    proxied = post(running_stack.ingest_url, body_of(connection_event(Datetime=1_785_333_000_001)))
    assert proxied.status_code == 201  # from the local JumpServerProxyCidrs: not announced
    sqs = running_stack.aws_client("sqs")
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=2)["Messages"]
    details = [json.loads(message["Body"])["detail"] for message in messages]
    assert [detail["id"] for detail in details] == [answer.json()["id"]]
    base = running_stack.ingest_url.split("?")[0]
    listed = signed_get(f"{base}?direct=true&from=1785332000000&to=1785334000000").json()["events"]
    assert [event["id"] for event in listed] == [answer.json()["id"]]

"""Every recorded exchange with a real JumpServer (v3.10.23, v4.10.16), replayed in order against
the simulator of the same version: same status, same response shape (keys and value types).

Ids differ (the simulator makes its own), so each id the server returned is mapped to the one the
simulator returned at the same place, and later requests are rewritten with it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from email.utils import formatdate
from pathlib import Path

import pytest
import requests

from jumpserver_sim import Simulator

RECORDINGS = Path(__file__).with_name("recordings")
VERSIONS = {"v3": "v3.10.23", "v4": "v4.10.16"}
PRIVATE_TOKEN = "0123456789abcdef0123456789abcdef01234567"
ACCESS_KEY = ("0f2b1a7e-5c1d-4a0e-9d7b-2c6e8f1a3b4d", "access-key-secret-for-the-replay")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def exchanges(version: str) -> list[dict]:
    folder = RECORDINGS / VERSIONS[version]
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]


def shape(value):
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def differences(recorded, actual, where="body") -> list[str]:
    if isinstance(recorded, dict) and isinstance(actual, dict):
        found = [f"{where}: missing {key}" for key in recorded.keys() - actual.keys()]
        found += [f"{where}: unexpected {key}" for key in actual.keys() - recorded.keys()]
        for key in recorded.keys() & actual.keys():
            found += differences(recorded[key], actual[key], f"{where}.{key}")
        return found
    if isinstance(recorded, list) and isinstance(actual, list):
        if recorded and not actual:
            return [f"{where}: empty, the server returned items"]
        return differences(recorded[0], actual[0], f"{where}[0]") if recorded and actual else []
    if shape(recorded) != shape(actual):
        return [f"{where}: {shape(recorded)} != {shape(actual)}"]
    return []


def learn_ids(recorded, actual, ids: dict[str, str]) -> None:
    if isinstance(recorded, dict) and isinstance(actual, dict):
        for key in recorded.keys() & actual.keys():
            learn_ids(recorded[key], actual[key], ids)
    elif isinstance(recorded, list) and isinstance(actual, list):
        for pair in zip(recorded, actual, strict=False):
            learn_ids(*pair, ids)
    elif (
        isinstance(recorded, str) and isinstance(actual, str) and UUID.match(recorded) and UUID.match(actual)
    ):
        ids.setdefault(recorded, actual)


def rewrite(text: str, ids: dict[str, str]) -> str:
    for recorded, actual in ids.items():
        text = text.replace(recorded, actual)
    return text


def headers_for(exchange: dict, method: str, path: str) -> dict[str, str]:
    recorded = exchange["request"]["headers"]
    headers = {"Accept": "application/json", "Accept-Language": "en", "Content-Type": "application/json"}
    authorization = recorded.get("Authorization")
    if authorization == "<private-token>":
        bad = exchange["response"]["status"] == 401
        headers["Authorization"] = f"Token {'f' * 40 if bad else PRIVATE_TOKEN}"
    elif authorization == "<signature>":
        headers["Date"] = formatdate(usegmt=True)
        signed = (
            f"(request-target): {method.lower()} {path}\naccept: application/json\ndate: {headers['Date']}"
        )
        digest = hmac.new(ACCESS_KEY[1].encode(), signed.encode(), hashlib.sha256).digest()
        headers["Authorization"] = (
            f'Signature keyId="{ACCESS_KEY[0]}",algorithm="hmac-sha256",'
            f'headers="(request-target) accept date",signature="{base64.b64encode(digest).decode()}"'
        )
    return headers


def seed_earlier_assets(simulator: Simulator) -> None:
    """The recorded servers already held assets from earlier runs (03 lists more than one)."""
    platform = {"v3": 18, "v4": 17}[simulator.version]
    for index in range(2):
        body = {"name": f"earlier-{index}", "address": "10.9.9.9", "platform": platform, "db_name": "x"}
        body["labels"] = ["env:old"]
        response = requests.post(
            f"{simulator.url}/api/v1/assets/databases/",
            json=body,
            headers={"Authorization": f"Token {PRIVATE_TOKEN}"},
            timeout=5,
        )
        response.raise_for_status()


@pytest.mark.parametrize("version", VERSIONS)
def test_every_recorded_exchange_replays_with_the_same_status_and_shape(version):
    ids: dict[str, str] = {}
    failures = []
    # the recorded servers ran with CONNECTION_TOKEN_REUSABLE: true (recordings/README.md)
    with Simulator(
        version, private_token=PRIVATE_TOKEN, access_keys=dict([ACCESS_KEY]), connection_token_reusable=True
    ) as simulator:
        seed_earlier_assets(simulator)
        for exchange in exchanges(version):
            request, expected = exchange["request"], exchange["response"]
            method, path = request["method"], rewrite(request["path"], ids)
            body = (
                json.loads(rewrite(json.dumps(request["json"]), ids)) if request["json"] is not None else None
            )
            if path == "/api/v1/users/profile/":
                simulator.service_user.id = simulator.store.service_user.id  # the same user either way
            response = requests.request(
                method,
                simulator.url + path,
                json=body,
                headers=headers_for(exchange, method, path),
                timeout=5,
            )
            title = f"{version} {exchange['title']} ({method} {path})"
            if response.status_code != expected["status"]:
                failures.append(
                    f"{title}: status {response.status_code} != {expected['status']}: {response.text[:300]}"
                )
                continue
            if "json" in expected:
                actual = response.json()
                failures += [f"{title}: {problem}" for problem in differences(expected["json"], actual)]
                learn_ids(expected["json"], actual, ids)
            else:
                assert response.content == b"", title
    assert not failures, "\n".join(failures)

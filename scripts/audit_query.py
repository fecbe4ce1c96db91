"""`make audit-query Q='userLogin=etl&name=DROP TABLE'`: a SigV4-signed GET /audit/events, as an
auditor would send it (no awscurl needed).

Q is written as you would say it - `name=DROP TABLE`, `from=2026-07-01T00:00:00+02:00` - and each
value is URL-encoded here (a value already encoded is decoded first, so `%20` works too; `+` stays a
plus). The answer's body goes to stdout; its HTTP status and the next page's cursor to stderr.
ALL=1 follows the cursor to the last page (JSON: one document with every event; CSV: one header).
ID=<event id> fetches that one event. ACCEPT=text/csv for CSV.

Against the running local stack by default (where `make run` listens: .dbguard-local/, signed with
the local credentials); QUERY_URL (the stack output) queries a deployment with your own AWS
credentials.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, unquote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests

from dbguard_local.cli import run
from dbguard_local.clients import signed_get

CSV = "text/csv"


def encoded(query: str) -> list[tuple[str, str]]:
    """`name=DROP TABLE&limit=5` -> its pairs, each percent-encoded as SigV4 signs them."""
    pairs = []
    for part in filter(None, query.lstrip("?").split("&")):
        key, _, value = part.partition("=")
        pairs.append((quote(unquote(key), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return pairs


def main(query: str, event_id: str, follow: bool, accept: str) -> int:
    pages = list(_pages(query, event_id, follow, accept))
    if not pages[-1].ok:
        print(pages[-1].text)
        return 1
    body = _joined(pages, accept) if len(pages) > 1 else pages[0].text
    print(body, end="" if body.endswith("\n") else "\n")  # a CSV body ends its last row itself
    return 0


def _pages(query: str, event_id: str, follow: bool, accept: str) -> Iterator[requests.Response]:
    pairs = encoded(query)
    while True:
        response = _get(f"/{quote(event_id, safe='')}" if event_id else "", pairs, accept)
        cursor = _next_cursor(response, accept) if response.ok and not event_id else None
        print(f"HTTP {response.status_code}; next cursor: {cursor or 'none (last page)'}", file=sys.stderr)
        yield response
        if not (follow and cursor):
            return
        pairs = [(key, value) for key, value in pairs if key != "cursor"] + [
            ("cursor", quote(cursor, safe=""))
        ]


def _get(path: str, pairs: list[tuple[str, str]], accept: str) -> requests.Response:
    suffix = path + ("?" + "&".join(f"{key}={value}" for key, value in pairs) if pairs else "")
    url = os.environ.get("QUERY_URL")
    return signed_get(f"/audit/events{suffix}", f"{url}{suffix}" if url else None, accept)


def _next_cursor(response: requests.Response, accept: str) -> str | None:
    if accept == CSV:
        return response.headers.get("X-Next-Cursor") or None
    cursor: str | None = response.json().get("nextCursor")
    return cursor


def _joined(pages: list[requests.Response], accept: str) -> str:
    """Every page as one answer: CSV with the first page's header only, JSON with every event."""
    if accept == CSV:
        first, *rest = [page.text for page in pages]
        return first + "".join(text.split("\r\n", 1)[1] if "\r\n" in text else "" for text in rest)
    events = [event for page in pages for event in page.json()["events"]]
    return json.dumps({"events": events, "nextCursor": None}, indent=2, ensure_ascii=False)


if __name__ == "__main__":
    arguments = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("Q", "")
    run(
        lambda: main(
            arguments,
            os.environ.get("ID", ""),
            os.environ.get("ALL") == "1",
            os.environ.get("ACCEPT", "application/json"),
        )
    )

"""rotation_status: GET /rotation/databases over many registered databases, its latency as a ratio
to the reads it cannot avoid - every page of the byDue index's active partition, each item decoded -
measured through the function's own composition root, service and DynamoDB adapter.

The pages are read from moto once and then served from memory with one round trip per page
(bench/registry_model.py's 10 ms; a page holds a thousand databases, under DynamoDB's 1 MB): moto
answers a Query by walking the index in Python, seconds for a few thousand items, which would drown
what the ratio is about - dbguard's own work per database (the registry entry's model, its state,
the sort, the answer's JSON).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Iterator
from typing import Any

import boto3

from bench.harness import deployed_in_moto, report
from bench.registry_model import ROUND_TRIP_SECONDS
from dbguard.adapters.dynamodb import from_item
from dbguard.composition.rotation_status import compose
from dbguard.rotation.status import StatusQuery
from dbguard_local.functions import function_specs
from dbguard_testkit.registry_seed import seed_registry

DATABASES = int(os.environ.get("BENCH_STATUS_DATABASES", "10000"))
PAGE_ITEMS = 1000
RUNS = 5


class PagesOverNetwork:
    """The byDue pages a DynamoDB client's Query paginator returns, one round trip each."""

    def __init__(self, pages: list[dict[str, Any]]) -> None:
        self._pages = pages

    def get_paginator(self, operation: str) -> PagesOverNetwork:
        return self

    def paginate(self, **_: Any) -> Iterator[dict[str, Any]]:
        for page in self._pages:
            time.sleep(ROUND_TRIP_SECONDS)
            yield page


def run() -> dict[str, float]:
    with deployed_in_moto() as template:
        table = template.physical_ids["RegistryTable"]
        dynamodb = boto3.client("dynamodb")
        seed_registry(dynamodb, table, DATABASES, int(time.time()))
        pages = list(
            dynamodb.get_paginator("query").paginate(
                TableName=table,
                IndexName="byDue",
                KeyConditionExpression="dueKey = :active",
                ExpressionAttributeValues={":active": {"S": "active"}},
                PaginationConfig={"PageSize": PAGE_ITEMS},
            )
        )
        environment = function_specs(template)["RotationStatusFunction"].environment
    network = PagesOverNetwork(pages)
    status = compose(environment, dynamodb=network)  # the function's graph, its adapter over the model
    query = StatusQuery(limit=DATABASES)
    timings, baseline, answer = [], [], ""
    for _ in range(RUNS):  # alternating, so both see the same machine load
        baseline.append(_reads(network))
        started = time.perf_counter()
        answer = json.dumps(status.report(query).model_dump(mode="json", by_alias=True))
        timings.append(time.perf_counter() - started)
    latency, base = statistics.median(timings), statistics.median(baseline)
    report(
        f"rotation_status: every one of {DATABASES} active databases, most urgent first",
        [
            ("answer", f"{len(answer) / 1e6:.1f} MB of JSON, {len(pages)} pages read"),
            ("latency", f"{latency * 1000:.0f} ms vs {base * 1000:.0f} ms for the pages' reads   "
                        f"ratio {latency / base:.2f}"),
        ],
    )  # fmt: skip
    return {"status_latency_ratio": latency / base, "status_latency_ms": latency * 1000}


def _reads(network: PagesOverNetwork) -> float:
    """The floor: every page, one round trip each, every item decoded, nothing else."""
    started = time.perf_counter()
    for page in network.paginate():
        for item in page["Items"]:
            from_item(item)
    return time.perf_counter() - started


if __name__ == "__main__":
    print(json.dumps(run()))

"""audit_query: a one-day, one-user query over many stored events (moto), its latency as a ratio
to the plain DynamoDB Queries it cannot avoid (one per shard of the user's index, same day), and
the index items read per event returned.

moto answers a Query by walking the whole index in Python (and the GIL serialises the parallel
shard queries), so absolute latencies say more about moto than about DynamoDB, where the 16
queries run in parallel. The ratio is dbguard's own cost on top of the reads (merge, BatchGetItem of
the full events, models), measured through the function's own composition root and search
service; the read ratio is exact, and it is what DynamoDB bills.
"""

from __future__ import annotations

import json
import os
import statistics
import time

import boto3

from bench.harness import deployed_in_moto, report
from dbguard.adapters.dynamodb import to_item
from dbguard.audit.filters import EventFilters
from dbguard.audit.keys import SHARDS
from dbguard.composition.audit_query import compose
from dbguard_local.functions import function_specs
from dbguard_testkit.audit_seed import DAY_MS, START_MS, events, store

EVENTS = int(os.environ.get("BENCH_QUERY_EVENTS", "100000"))
DAYS = 30
RUNS = 3


def run() -> dict[str, float]:
    with deployed_in_moto() as template:
        table = template.physical_ids["AuditEventsTable"]
        dynamodb = boto3.client("dynamodb")
        seeded = time.perf_counter()
        records = store(dynamodb, table, events(EVENTS, days=DAYS))
        seed_seconds = time.perf_counter() - seeded
        search = compose(function_specs(template)["AuditQueryFunction"].environment)  # the function's
        day = {
            "from": START_MS + 10 * DAY_MS,
            "to": START_MS + 11 * DAY_MS - 1,
            "userLogin": "etl",
            "limit": 1000,
        }
        filters = EventFilters.model_validate(day)
        results, timings = [], []
        for _ in range(RUNS):
            started = time.perf_counter()
            results.append(search.search(filters))
            timings.append(time.perf_counter() - started)
        baseline = [_plain_queries(dynamodb, table, day) for _ in range(RUNS)]
    page, index_items_read = results[-1].page, results[-1].index_items_read
    expected = sum(
        1 for r in records if r["userLogin"] == "etl" and day["from"] <= r["Datetime"] <= day["to"]
    )
    latency, base = statistics.median(timings), statistics.median(baseline)
    read_ratio = index_items_read / max(len(page.events), 1)
    report(
        f"audit_query: one day, one user, over {EVENTS} stored events (moto; seeded in {seed_seconds:.0f} s)",
        [
            ("events returned", f"{len(page.events)} (expected {expected})"),
            ("latency", f"{latency * 1000:.0f} ms vs {base * 1000:.0f} ms for the 16 plain Queries   "
                        f"ratio {latency / base:.2f}"),
            ("index items read per event returned", f"{read_ratio:.2f}"),
        ],
    )  # fmt: skip
    return {"query_latency_ratio": latency / base, "query_read_ratio": read_ratio}


def _plain_queries(dynamodb, table: str, day: dict) -> float:
    """The floor: the same day's Query on each shard of the user's index, nothing else."""
    started = time.perf_counter()
    for shard in range(SHARDS):
        dynamodb.query(
            TableName=table,
            IndexName="byUser",
            KeyConditionExpression="gsiUser = :pk AND ts BETWEEN :lo AND :hi",
            ExpressionAttributeValues=to_item(
                {":pk": f"etl#{shard:02d}", ":lo": f"{day['from']:013d}#", ":hi": f"{day['to']:013d}#~"}
            ),
        )
    return time.perf_counter() - started


if __name__ == "__main__":
    print(json.dumps(run()))

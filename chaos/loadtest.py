"""`make loadtest`: qhb_audit-like clients against the whole local stack, with storage faults and
Lambda restarts, then the audit table is scanned and every event accounted for.

    .venv/bin/python -m chaos.loadtest --events 20000 --seed 1

1. starts `python -m dbguard_local` on free 127.0.0.1 ports with the embedded AWS failing DynamoDB
   PutItem at `--throttle-rate` (before the write) and `--after-write-rate` (after it), see
   dbguard_local/faults.py;
2. `--clients` threads POST `--events` distinct events to the ingest URL, one per request or (a
   `--batch-share` of the requests) arrays of 2 to `--batch-max`. Like qhb_audit, a client retries a
   request that got no 2xx answer (connection error, timeout, 5xx, 429) every `--interval-ms`, at
   most `--max-attempts` times in all; a `--resend-share` of the acknowledged requests is sent
   again as if the answer had been lost (keys reordered: the same events);
3. `--restarts` times during the run (evenly spread over the requests), every function's execution
   environment is killed, mid-invocation or not (SIGUSR1 to the stack);
4. the audit table is scanned through the embedded AWS endpoint and each event looked up by its
   marker (`sessionID`).

It reports sent, acknowledged, stored, duplicated, lost (acknowledged but not stored), gave up
(no 2xx after every attempt), throughput and p50/p99 latency (first send to acknowledgement, retries
included) as a table and as JSON, and exits 1 unless nothing was lost, duplicated or given up.
Bounded: `--events` requests at most `--max-attempts` each, and `--max-seconds` overall.
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from chaos.local_stack import LocalStackProcess
from chaos.report import Progress, command_line, percentile
from dbguard_testkit.samples import connection_event, ddl_event

AUDIT_TABLE = "dbguard-local-AuditEventsTable"
DATETIME_BASE_MS = 1_790_000_000_000
USERS = ("app_billing", "etl", "dba_ivanov", "report_ro", "backup")
SERVICES = ("qhb-billing-01", "qhb-billing-02", "qhb-crm-01")


# --help's line for each option (chaos/report.py refuses an option without one)
OPTION_HELP = {
    "events": "distinct events posted in all",
    "clients": "client threads posting at once",
    "batch_share": "share of requests that are arrays of events",
    "batch_max": "most events in an array (at least 2)",
    "resend_share": "share of acknowledged requests sent again, as if the answer was lost",
    "throttle_rate": "share of DynamoDB PutItem calls throttled before the write",
    "after_write_rate": "share of DynamoDB PutItem calls applied, then answered 500",
    "restarts": "times every function's environment is killed during the run",
    "max_attempts": "attempts per request, as qhb_audit.rest_max_attempts",
    "interval_ms": "milliseconds between attempts, as qhb_audit.rest_attempts_interval_ms",
    "request_timeout": "seconds a client waits for an answer",
    "max_seconds": "give up after this many seconds",
    "seed": "seed of every random draw (the same seed, the same run)",
}


@dataclass(frozen=True)
class Options:
    events: int = 20_000
    clients: int = 8
    batch_share: float = 0.1
    batch_max: int = 20
    resend_share: float = 0.02
    throttle_rate: float = 0.02
    after_write_rate: float = 0.01
    restarts: int = 3
    max_attempts: int = 10  # qhb_audit.rest_max_attempts
    interval_ms: int = 100  # qhb_audit.rest_attempts_interval_ms (5000 in production)
    request_timeout: float = 30.0
    max_seconds: float = 1800.0
    seed: int = 1


@dataclass
class Plan:
    events: list[dict[str, Any]]  # index = the event's number; its sessionID is its marker
    requests: list[list[int]]  # event numbers per request; more than one = an array
    resend: set[int]  # requests sent again once acknowledged


def marker(seed: int, number: int) -> str:
    return f"lt{seed}-{number:07d}"


def plan(options: Options) -> Plan:
    rng = random.Random(options.seed)
    events = []
    for number in range(options.events):
        make = connection_event if rng.random() < 0.7 else ddl_event
        events.append(
            make(
                Datetime=DATETIME_BASE_MS + options.seed * 100_000_000 + number,
                sessionID=marker(options.seed, number),
                userLogin=rng.choice(USERS),
                serviceName=rng.choice(SERVICES),
            )
        )
    requests_: list[list[int]] = []
    number = 0
    while number < options.events:
        size = rng.randint(2, options.batch_max) if rng.random() < options.batch_share else 1
        requests_.append(list(range(number, min(number + size, options.events))))
        number += size
    resend = {index for index in range(len(requests_)) if rng.random() < options.resend_share}
    return Plan(events, requests_, resend)


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    acknowledged: set[int] = field(default_factory=set)
    gave_up: set[int] = field(default_factory=set)
    rejected: set[int] = field(default_factory=set)  # a 4xx: qhb_audit would not retry it either
    answered_ids: dict[int, str] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    attempts: Counter = field(default_factory=Counter)  # answer status (or error name) per attempt
    resent: int = 0
    resend_not_duplicate: int = 0  # a lost-answer resend that stored something anew
    requests_done: int = 0


class Client:
    """What qhb_audit does with one request: send, and on no 2xx wait and send again."""

    def __init__(self, url: str, options: Options, tally: Tally, deadline: float) -> None:
        self._url, self._options, self._tally, self._deadline = url, options, tally, deadline
        self._local = threading.local()

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def send(self, body: bytes) -> tuple[int, Any] | None:
        """The 2xx status and answer, or None (gave up, or the run's time is over)."""
        for attempt in range(self._options.max_attempts):
            if time.monotonic() > self._deadline:
                return None
            if attempt:
                time.sleep(self._options.interval_ms / 1000)
            try:
                response = self._session().post(
                    self._url,
                    data=body,
                    headers={"Content-Type": "application/json"},
                    timeout=self._options.request_timeout,
                )
            except requests.RequestException as error:
                self._count(type(error).__name__)
                continue
            self._count(str(response.status_code))
            if 200 <= response.status_code < 300:
                return response.status_code, response.json()
            if response.status_code < 500 and response.status_code != 429:
                return response.status_code, None  # refused: retrying cannot help
        return None

    def _count(self, outcome: str) -> None:
        with self._tally.lock:
            self._tally.attempts[outcome] += 1


def _body(events: list[dict[str, Any]], reordered: bool = False) -> bytes:
    document: Any = events if len(events) > 1 else events[0]
    if reordered:  # the same events, other key order and spacing: the same content-derived ids
        return json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False).encode()
    return json.dumps(document, ensure_ascii=False).encode()


def _ids_of(answer: Any, count: int) -> list[str]:
    return [result["id"] for result in answer["results"]] if count > 1 else [answer["id"]]


def _all_duplicates(answer: Any, count: int) -> bool:
    results = answer["results"] if count > 1 else [answer]
    return all(result["duplicate"] for result in results)


def run_requests(
    stack: LocalStackProcess, the_plan: Plan, options: Options, progress: Progress | None
) -> tuple[Tally, float]:
    tally = Tally()
    started = time.monotonic()
    client = Client(stack.ingest_url, options, tally, started + options.max_seconds)
    total = len(the_plan.requests)
    restart_at = {total * (k + 1) // (options.restarts + 1) for k in range(options.restarts)}

    def one(index: int) -> None:
        numbers = the_plan.requests[index]
        events = [the_plan.events[n] for n in numbers]
        sent_at = time.monotonic()
        outcome = client.send(_body(events))
        elapsed_ms = (time.monotonic() - sent_at) * 1000
        resend_outcome = None
        if outcome and outcome[1] is not None and index in the_plan.resend:
            resend_outcome = client.send(_body(events, reordered=True))  # "the answer was lost"
        with tally.lock:
            if outcome is None:
                tally.gave_up.update(numbers)
            elif outcome[1] is None:
                tally.rejected.update(numbers)
            else:
                tally.acknowledged.update(numbers)
                tally.latencies_ms.append(elapsed_ms)
                tally.answered_ids.update(zip(numbers, _ids_of(outcome[1], len(numbers)), strict=True))
            if resend_outcome is not None:
                tally.resent += 1
                if resend_outcome[1] is None or not _all_duplicates(resend_outcome[1], len(numbers)):
                    tally.resend_not_duplicate += 1
            tally.requests_done += 1
            restart = tally.requests_done in restart_at
        if restart:
            stack.restart_functions()
        if progress:
            progress.advance(len(numbers))

    with ThreadPoolExecutor(max_workers=options.clients, thread_name_prefix="qhb-client") as pool:
        for _ in pool.map(one, range(total)):
            pass
    return tally, time.monotonic() - started


def scan_markers(stack: LocalStackProcess) -> tuple[Counter, dict[str, str], int]:
    """How often each marker is stored, the id stored under it, and items without a marker."""
    dynamodb = stack.aws_client("dynamodb")
    counts: Counter = Counter()
    ids: dict[str, str] = {}
    unmarked = 0
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=AUDIT_TABLE, ProjectionExpression="id, #raw", ExpressionAttributeNames={"#raw": "raw"}
    ):
        for item in page["Items"]:
            session = json.loads(item["raw"]["S"]).get("sessionID")
            if not session:
                unmarked += 1
                continue
            counts[session] += 1
            ids[session] = item["id"]["S"]
    return counts, ids, unmarked


def figures(
    options: Options, the_plan: Plan, tally: Tally, elapsed: float, stack: LocalStackProcess, scan: tuple
) -> dict[str, Any]:
    counts, stored_ids, unmarked = scan
    ours = {marker(options.seed, n): n for n in range(options.events)}
    stored = {ours[m] for m in counts if m in ours}
    duplicated = sum(c - 1 for m, c in counts.items() if m in ours and c > 1)
    lost = sorted(n for n in tally.acknowledged if n not in stored)
    id_mismatch = sum(
        1
        for n, answered in tally.answered_ids.items()
        if stored_ids.get(marker(options.seed, n), answered) != answered
    )
    faults = (stack.record("storage-faults") or [{}])[-1]
    p50, p99 = percentile(tally.latencies_ms, 0.5), percentile(tally.latencies_ms, 0.99)
    return {
        "options": options.__dict__,
        "requests": len(the_plan.requests),
        "arrays": sum(1 for r in the_plan.requests if len(r) > 1),
        "sent": options.events,
        "acknowledged": len(tally.acknowledged),
        "stored": len(stored),
        "duplicated": duplicated,
        "lost": len(lost),
        "lostSample": [marker(options.seed, n) for n in lost[:10]],
        "gaveUp": len(tally.gave_up),
        "rejected": len(tally.rejected),
        "storedNotAcknowledged": len(stored - tally.acknowledged),
        "foreignItems": unmarked + sum(1 for m in counts if m not in ours),
        "idMismatch": id_mismatch,
        "resent": tally.resent,
        "resendNotDuplicate": tally.resend_not_duplicate,
        "attempts": dict(sorted(tally.attempts.items())),
        "storageFaults": {k: v for k, v in faults.items() if k != "type"},
        "lambdaRestarts": len(stack.record("lambda-restart")),
        "seconds": round(elapsed, 1),
        "throughputEventsPerSecond": round(len(tally.acknowledged) / elapsed, 1) if elapsed else None,
        "throughputRequestsPerSecond": round(tally.requests_done / elapsed, 1) if elapsed else None,
        "latencyMsP50": round(p50, 1) if p50 is not None else None,
        "latencyMsP99": round(p99, 1) if p99 is not None else None,
        "ingestTokenInLogs": stack.secret_seen,
    }


def passed(result: dict[str, Any]) -> bool:
    return (
        result["lost"] == 0
        and result["duplicated"] == 0
        and result["gaveUp"] == 0
        and result["rejected"] == 0
        and result["acknowledged"] == result["sent"] == result["stored"]
        and result["idMismatch"] == 0
        and result["resendNotDuplicate"] == 0
        and result["foreignItems"] == 0
        and not result["ingestTokenInLogs"]
    )


def run(options: Options, show_progress: bool = True) -> dict[str, Any]:
    the_plan = plan(options)
    stack = LocalStackProcess(
        DBGUARD_FAULT_THROTTLE_RATE=str(options.throttle_rate),
        DBGUARD_FAULT_AFTER_WRITE_RATE=str(options.after_write_rate),
        DBGUARD_FAULT_SEED=str(options.seed),
    )
    try:
        progress = Progress("loadtest", options.events) if show_progress else None
        tally, elapsed = run_requests(stack, the_plan, options, progress)
        if progress:
            progress.close()
        scan = scan_markers(stack)
    finally:
        stack.stop()
    result = figures(options, the_plan, tally, elapsed, stack, scan)
    result["passed"] = passed(result)
    return result


def _rows(result: dict[str, Any]) -> list[tuple[str, Any]]:
    faults = result["storageFaults"]
    return [
        ("events sent (distinct)", result["sent"]),
        ("requests (arrays)", f"{result['requests']} ({result['arrays']})"),
        ("acknowledged", result["acknowledged"]),
        ("stored", result["stored"]),
        ("duplicated", result["duplicated"]),
        ("lost (acknowledged, not stored)", result["lost"]),
        ("gave up after every attempt", result["gaveUp"]),
        ("lost-answer resends (all duplicate)", f"{result['resent']} ({result['resendNotDuplicate'] == 0})"),
        ("attempts by answer", ", ".join(f"{k}: {v}" for k, v in result["attempts"].items())),
        ("PutItem calls / throttled / failed after write",
         f"{faults.get('calls')} / {faults.get('throttled')} / {faults.get('failedAfterWrite')}"),
        ("Lambda restarts", result["lambdaRestarts"]),
        ("duration", f"{result['seconds']} s"),
        ("throughput", f"{result['throughputEventsPerSecond']} events/s, "
                       f"{result['throughputRequestsPerSecond']} requests/s"),
        ("latency p50 / p99 (ms, retries included)", f"{result['latencyMsP50']} / {result['latencyMsP99']}"),
        ("ingest token in the stack's output", result["ingestTokenInLogs"]),
        ("passed", result["passed"]),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    return command_line(
        "python -m chaos.loadtest", __doc__.split("\n\n")[0], Options(), OPTION_HELP,
        lambda options, progress: run(options, show_progress=progress),
        lambda options, result: f"loadtest: {options.events} events through the local stack",
        _rows, argv,
        check=lambda o: (
            "--events, --max-attempts and --clients must be at least 1"
            if min(o.events, o.max_attempts, o.clients) < 1 else None
        ),
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())

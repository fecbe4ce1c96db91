"""`make run`: start the local stack, print how to use it, stop cleanly on Ctrl-C or SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
import threading
import time

from dbguard_local import endpoints
from dbguard_local.stack import LocalStack, StackConfig


def banner(stack: LocalStack) -> str:
    ingest_url = stack.ingest_url()
    jumpserver = (
        f"simulator ({stack.jumpserver.version}) at {stack.jumpserver_url} (state: GET /_sim/state)"
        if stack.jumpserver
        else f"{stack.jumpserver_url} (real server, credentials from JUMPSERVER_* variables)"
    )
    scheduler = stack.schedulers.get("TokenRotationFunction")
    schedule = f"the schedule runs every {scheduler.interval_seconds:g} s" if scheduler else "no schedule"
    proxy_cidrs = ",".join(stack.template.parameters["JumpServerProxyCidrs"]) or "empty: detection off"
    return f"""
dbguard is running on 127.0.0.1 (embedded AWS, no account needed)

  Ingest URL (POST one qhb_audit event or an array of up to 100):
    {ingest_url}

  Point a QHB server at it - add to qhb.conf, then `qhb_ctl reload`:
    shared_preload_libraries = 'libqhb_audit'
    qhb_audit.rest_url = '{ingest_url}'
    qhb_audit.rest_max_attempts = 10
    qhb_audit.rest_attempts_interval_ms = 5000

  Try it:
    curl -si -X POST '{ingest_url}' \\
         -H 'Content-Type: application/json' -d @events/samples/qhb-connection-event.json

  Read them back (IAM: SigV4-signed with the local credentials; docs/audit-query.md):
    make audit-query Q='from=2026-07-01T00:00:00Z&limit=10'

  Embedded AWS (moto) for boto3 or the AWS CLI v2 (none of the commands here needs them):
    export AWS_ENDPOINT_URL={stack.aws_endpoint} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \\
           AWS_DEFAULT_REGION={stack.config.region}
    (audit events table: {stack.template.physical_ids["AuditEventsTable"]})

  A direct connection - from outside JumpServerProxyCidrs ({proxy_cidrs}) - is stored with
  direct=true and announced on the default EventBridge bus; locally a rule sends the announcements
  to a queue (docs/audit-ingest.md shows the SNS/email rule for an account):
    curl -si -X POST '{ingest_url}' \\
         -H 'Content-Type: application/json' -d @events/samples/qhb-direct-connection-event.json
    make direct-announcements        (the local queue {stack.announcements_queue_url})
    make audit-query Q='direct=true&from=2026-07-01T00:00:00Z'

  qhb_audit CSV files (qhb_audit.csv_file) shipped to S3 - {_csv_bucket(stack)}:
    make csv-upload FILE=events/samples/qhb-audit-day.csv SOURCE=qhb-billing-01
    make csv-status        (each file's progress, and the quarantined rows)
    make audit-query Q='serviceName=qhb-billing-01&from=2026-12-06T00:00:00Z'
  Every source's last-seen time, silent or not (SigV4-signed; checked every {_check_interval(stack)}):
    make sources

  Tamper-evident audit trail (docs/audit-digests.md): audit_digest signs each closed storage hour's
  digest ({_digest_schedule(stack)}), locked in {stack.template.physical_ids["DigestBucket"]}:
    make audit-demo                               # sample events stored an hour back, that hour digested
    make verify-audit FROM={_previous_hour()} TO={_previous_hour()}   # clean: exit 0
    make audit-tamper ACTION=change               # or delete, insert, copy: then verify names the event

  JumpServer: {jumpserver}
{_settings_check(stack)}

  Register a database from the CMDB (then see the asset in JumpServer and its secret):
    make cmdb-event FILE=events/samples/cmdb-upsert.json
    make secret DATABASE=billing-qhb-01
  Rotate its token now ({schedule}); FORCE=1 because it was rotated within
  ConsumerCacheSeconds, when applications may still cache the token two rotations back:
    make rotate DATABASES=billing-qhb-01 FORCE=1
    (or any Lambda client, endpoint {stack.lambda_endpoint},
     function {stack.workers["TokenRotationFunction"].spec.name}, payload {{"rotate": "all", "force": true}})
  Every database's token expiry, next rotation and last error, most urgent first (SigV4-signed):
    make status
  Retire it:
    make cmdb-event FILE=events/samples/cmdb-delete.json

  Stop with Ctrl-C.
""".rstrip()


def _csv_bucket(stack: LocalStack) -> str:
    prefix = stack.template.parameters["AuditCsvPrefix"]
    return f"s3://{stack.template.physical_ids['AuditCsvBucket']}/{prefix}<source>/<file>.csv"


def _check_interval(stack: LocalStack) -> str:
    scheduler = stack.schedulers.get("AuditSourcesFunction")
    return f"{scheduler.interval_seconds:g} s" if scheduler else "never"


def _digest_schedule(stack: LocalStack) -> str:
    scheduler = stack.schedulers.get("AuditDigestFunction")
    return f"every {scheduler.interval_seconds:g} s" if scheduler else "no schedule"


def _previous_hour() -> str:
    return time.strftime("%Y-%m-%dT%H", time.gmtime(time.time() - 3600))


def _settings_check(stack: LocalStack) -> str:
    """The deployment's settings check, as `sam deploy` would meet it (docs/rotation.md)."""
    findings = stack.settings_findings()
    found = [("REFUSED (a deployment fails): ", problem) for problem in findings.problems]
    found += [("WARNING: ", warning) for warning in findings.warnings]
    if not found:
        return "  Settings check (RotationSettingsCheck) passes."
    verdict = "refuses this deployment" if findings.problems else "passes, with warnings"
    lines = [f"  Settings check (RotationSettingsCheck) {verdict}:"]
    for label, text in found:
        lines += textwrap.wrap(label + text, 100, initial_indent="    ", subsequent_indent="      ")
    return "\n".join(lines)


def main() -> int:
    stack = LocalStack(StackConfig.from_env())
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        stack.start()
    except OSError as error:
        stack.stop()
        print(f"dbguard local stack could not start: {error.strerror or error}", file=sys.stderr)
        return 1
    written = endpoints.write(stack.endpoints())
    print(banner(stack), flush=True)
    print(
        f"\n  Helpers (make audit-query, rotate, status, ...) find this stack through {written}", flush=True
    )
    print("READY", flush=True)  # tests and scripts wait for this line
    signal.signal(signal.SIGUSR1, lambda *_: _restart_functions(stack))
    # Python runs signal handlers in the main thread only. A signal the kernel hands to one of the
    # servers' threads does not wake a main thread blocked for good, and a second one arriving
    # before it wakes is merged into the first: a restart would go missing. Waking up twice a
    # second runs each handler promptly.
    while not stopping.wait(0.5):
        pass
    print("\nstopping dbguard local stack ...", flush=True)
    endpoints.remove(os.getpid())
    stack.stop()
    if stack.storage_faults is not None:  # DBGUARD_FAULT_*: what the run met
        print(json.dumps({"type": "storage-faults", **stack.storage_faults.counts.as_dict()}), flush=True)
    return 0


def _restart_functions(stack: LocalStack) -> None:
    """SIGUSR1: every function's environment dies now and cold-starts on its next invocation."""
    stack.restart_functions()
    print(json.dumps({"type": "lambda-restart", "functions": len(stack.workers)}), flush=True)


if __name__ == "__main__":
    sys.exit(main())

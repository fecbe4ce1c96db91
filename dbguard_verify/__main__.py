"""python -m dbguard_verify --from 2026-12-07T00 --to 2026-12-07T23 (--stack NAME | --bucket B --table T
--key-id ARN | --export DIR --public-key key.pem) [--json] [--report FILE]; `export` writes an export.

Exit status: 0 clean, 1 findings, 2 cannot verify (bad arguments, no access, no trusted key)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dbguard.digest.hours import parse_label
from dbguard.digest.verify import HourReport, unlisted_items
from dbguard_verify import keys
from dbguard_verify.run import ProgressBar, table, verify
from dbguard_verify.sources import Deployment, Export, Source, export


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m dbguard_verify", description=__doc__)
    parser.add_argument("command", nargs="?", choices=["verify", "export"], default="verify")
    parser.add_argument("--from", dest="first", required=True, help="first hour, UTC: 2026-12-07T00")
    parser.add_argument("--to", dest="last", required=True, help="last hour, UTC, included")
    parser.add_argument("--stack", help="a deployed stack: its outputs name the bucket, table and key")
    parser.add_argument("--bucket", help="the digest bucket (stack output DigestBucketName)")
    parser.add_argument("--table", help="the audit table (stack output AuditEventsTableName)")
    parser.add_argument("--key-id", help="the trusted signing key (stack output DigestSigningKeyArn)")
    parser.add_argument("--public-key", type=Path, help="the trusted public key, PEM or DER (offline)")
    parser.add_argument("--export", type=Path, help="verify this export directory instead of AWS")
    parser.add_argument("--out", type=Path, help="export: the directory to write")
    parser.add_argument("--json", action="store_true", help="print the JSON report instead of the table")
    parser.add_argument("--report", type=Path, help="also write the JSON report to this file")
    parser.add_argument(
        "--scan", action="store_true", help="also scan the whole table for items without a storage hour"
    )
    parser.add_argument("--no-progress", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, clients: Any = None) -> int:
    options = arguments(sys.argv[1:] if argv is None else argv)
    try:
        return _main(options, clients)
    except (ValueError, OSError, LookupError, BotoCoreError, ClientError) as error:
        print(f"cannot verify: {error}", file=sys.stderr)
        return 2


def _main(options: argparse.Namespace, clients: Any) -> int:
    first, last = parse_label(options.first), parse_label(options.last)
    if last < first:
        raise ValueError("--to is before --from")
    hours = range(first, last + 1)
    if options.command == "export":
        return _export(options, hours, clients or _Clients())
    source, trusted = _source_and_key(options, clients)
    progress = ProgressBar(enabled=False if options.no_progress else None)
    verification = verify(source, hours, keys.verifier(trusted), progress)
    if options.scan and isinstance(source, Deployment):
        unindexed = HourReport("no storage hour")
        unlisted_items(
            source.unindexed(), unindexed, "no storage hour: in no digest (written around dbguard?)"
        )
        verification.hours.append(unindexed)
    report = verification.as_json() | {"events": verification.events, "hours_checked": len(hours)}
    print(json.dumps(report, indent=2) if options.json else table(verification))
    if options.report:
        options.report.write_text(json.dumps(report, indent=2))
    return 1 if verification.findings else 0


def _source_and_key(options: argparse.Namespace, clients: Any) -> tuple[Source, bytes]:
    if options.export:
        source: Source = Export(options.export)
        if options.public_key:
            return source, keys.from_file(options.public_key)
        if options.key_id:
            return source, keys.from_kms((clients or _Clients()).kms, options.key_id)
        raise ValueError("offline: name the trusted key with --public-key FILE (or --key-id ARN)")
    clients = clients or _Clients()
    names = _names(options, clients)
    source = Deployment(
        clients.s3, names["DigestBucketName"], clients.dynamodb, names["AuditEventsTableName"]
    )
    if options.public_key:
        return source, keys.from_file(options.public_key)
    return source, keys.from_kms(clients.kms, names["DigestSigningKeyArn"])


def _names(options: argparse.Namespace, clients: Any) -> dict[str, str]:
    given = {"DigestBucketName": options.bucket, "AuditEventsTableName": options.table,
             "DigestSigningKeyArn": options.key_id}  # fmt: skip
    if options.stack:
        [stack] = clients.cloudformation.describe_stacks(StackName=options.stack)["Stacks"]
        outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
        given = {name: value or outputs.get(name) for name, value in given.items()}
    missing = [
        name
        for name, value in given.items()
        if not value and not (options.public_key and name.endswith("Arn"))
    ]
    if missing:
        raise ValueError(
            f"name the deployment: --stack, or --bucket, --table and --key-id (missing {missing})"
        )
    return given


def _export(options: argparse.Namespace, hours: range, clients: Any) -> int:
    if options.out is None:
        raise ValueError("export: --out DIRECTORY")
    names = _names(options, clients)
    source = Deployment(
        clients.s3, names["DigestBucketName"], clients.dynamodb, names["AuditEventsTableName"]
    )
    counts = export(source, clients.s3, names["DigestBucketName"], hours, options.out)
    if names.get("DigestSigningKeyArn"):  # for convenience: an auditor should fetch it themselves too
        (options.out / "digest-key.pem").write_bytes(
            keys.to_pem(keys.from_kms(clients.kms, names["DigestSigningKeyArn"]))
        )
    print(f"exported {counts['digests']} digest(s) and {counts['events']} event(s) to {options.out}")
    return 0


class _Clients:
    """boto3 clients from the environment (credentials, AWS_ENDPOINT_URL for the local stack)."""

    def __getattr__(self, service: str) -> Any:
        import boto3

        client = boto3.client(service)
        setattr(self, service, client)
        return client


if __name__ == "__main__":
    sys.exit(main())

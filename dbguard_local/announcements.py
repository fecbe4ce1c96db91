"""Where the local stack sends direct connection announcements: a queue to read them from.

In an account, the security team's rule on the default bus sends them to SNS or email
(docs/audit-ingest.md); locally the same pattern routes them to a queue, since there is nobody to
mail. moto delivers put_events to a rule's SQS targets, as EventBridge does.
"""

from __future__ import annotations

import json

import boto3

from dbguard.audit.direct import ANNOUNCEMENT_PATTERN


def route_announcements_to_queue(session: boto3.Session, stack_name: str) -> str:
    """Create the queue and the default bus's rule; returns the queue's URL."""
    name = f"{stack_name}-direct-connections"
    sqs = session.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = session.client("events")
    events.put_rule(Name=name, EventPattern=json.dumps(ANNOUNCEMENT_PATTERN), State="ENABLED")
    events.put_targets(Rule=name, Targets=[{"Id": "local-queue", "Arn": arn}])
    return url

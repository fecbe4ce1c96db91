"""Adapters: DynamoDB, Secrets Manager, SQS, EventBridge, CloudFormation and JumpServer HTTP behind the ports
the domain declares. They import the domain, never the services or the composition roots."""

"""The auditors' verifier of dbguard's signed hourly digests (docs/audit-digests.md):
`python -m dbguard_verify --from ... --to ...`. Reads only: its IAM policy is in that document."""

"""A typed client for JumpServer's REST API, v3.10 and v4.x (facts: docs/jumpserver.md)."""

"""CMDB change events: the contract, and applying them to JumpServer, the registry and secrets."""

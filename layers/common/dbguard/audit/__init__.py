"""Audit events from QHB's qhb_audit extension: validation, exactly-once storage, queries."""

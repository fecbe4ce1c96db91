"""What tests, chaos runs, benchmarks and scripts build their worlds from (never deployed): realistic
sample events (samples), fault injection (faults), in-memory fakes of the domain's ports (fakes,
held to the adapters by tests/integration) and a seeded audit table (audit_seed)."""

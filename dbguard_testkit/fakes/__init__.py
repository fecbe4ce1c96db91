"""In-memory fakes of the rotation's and cmdb_sync's ports (registry/ports.py, secrets/ports.py,
rotation/ports.py), faithful to the rules of what they stand for, for unit tests that run in
milliseconds. Failures are injected with dbguard_testkit/faults.py (`Faulty(fake, FaultPlan(...))`)."""

from dbguard_testkit.fakes.clock import FakeClock
from dbguard_testkit.fakes.registry import FakeRegistry
from dbguard_testkit.fakes.secrets import FakeSecrets
from dbguard_testkit.fakes.tokens import FakeConnectionTokens

__all__ = ["FakeClock", "FakeConnectionTokens", "FakeRegistry", "FakeSecrets"]

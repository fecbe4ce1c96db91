"""In-memory fakes of the rotation's and cmdb_sync's ports (registry/ports.py, secrets/ports.py,
rotation/ports.py), faithful to the rules of what they stand for, for unit tests that run in
milliseconds. Failures are injected with tests/faults.py (`Faulty(fake, FaultPlan(...))`)."""

from tests.fakes.clock import FakeClock
from tests.fakes.registry import FakeRegistry
from tests.fakes.secrets import FakeSecrets
from tests.fakes.tokens import FakeConnectionTokens

__all__ = ["FakeClock", "FakeConnectionTokens", "FakeRegistry", "FakeSecrets"]

"""A JumpServer simulator (v3.10 / v4.x behaviour) for dbguard's tests and `make run`."""

from jumpserver_sim.server import Simulator

__all__ = ["Simulator"]

"""`make jumpserver-sim`: a simulator on 127.0.0.1:$JMS_SIM_PORT until Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import threading

from jumpserver_sim import Simulator
from jumpserver_sim.server import STOCK


def main() -> None:
    token = os.environ.get("JMS_SIM_TOKEN") or secrets.token_hex(20)
    simulator = Simulator(
        version=os.environ.get("JMS_SIM_VERSION", "v4"),
        private_token=token,
        port=int(os.environ.get("JMS_SIM_PORT", "8090")),
        connection_token_reusable=os.environ.get("JMS_SIM_CONNECTION_TOKEN_REUSABLE", "false").lower()
        == "true",
        throttle_rate=os.environ.get("JMS_SIM_THROTTLE_RATES_USER", STOCK),
    ).start()
    print(f"JumpServer simulator ({simulator.version}) on {simulator.url}", flush=True)
    rate = simulator.throttle and f"{simulator.throttle.num_requests}/{simulator.throttle.duration}s"
    print(
        f"  CONNECTION_TOKEN_REUSABLE={str(simulator.connection_token_reusable).lower()}, "
        f"throttle per user: {rate or 'none'}",
        flush=True,
    )
    print(f"  service user id: {simulator.service_user.id}", flush=True)
    if "JMS_SIM_TOKEN" not in os.environ:
        print(f"  private token:   {token}   (Authorization: Token <token>)", flush=True)
    print("  control: POST /_sim/faults, POST /_sim/reset, GET /_sim/state. Ctrl-C stops.", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    simulator.stop()


if __name__ == "__main__":
    main()

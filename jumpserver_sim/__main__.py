"""`make jumpserver-sim`: a simulator on 127.0.0.1:$JMS_SIM_PORT until Ctrl-C."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import signal
import sys
import threading

from jumpserver_sim import Simulator
from jumpserver_sim.server import STOCK


def main() -> None:
    port = int(os.environ.get("JMS_SIM_PORT", "8090"))
    try:
        serve(port)
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        sys.exit(f"port {port} is in use - move the simulator: JMS_SIM_PORT=<port> make jumpserver-sim")


def serve(port: int) -> None:
    token = os.environ.get("JMS_SIM_TOKEN") or secrets.token_hex(20)
    simulator = Simulator(
        version=os.environ.get("JMS_SIM_VERSION", "v4"),
        private_token=token,
        port=port,
        connection_token_reusable=_flag("JMS_SIM_CONNECTION_TOKEN_REUSABLE", "false"),
        throttle_rate=os.environ.get("JMS_SIM_THROTTLE_RATES_USER", STOCK),
        xpack_license_is_valid=_flag("JMS_SIM_XPACK_LICENSE_IS_VALID", "false"),
        terminal_magnus_enabled=_flag("JMS_SIM_TERMINAL_MAGNUS_ENABLED", "true"),
    ).start()
    print(f"JumpServer simulator ({simulator.version}) on {simulator.url}", flush=True)
    rate = simulator.throttle and f"{simulator.throttle.num_requests}/{simulator.throttle.duration}s"
    print(
        f"  CONNECTION_TOKEN_REUSABLE={str(simulator.connection_token_reusable).lower()}, "
        f"throttle per user: {rate or 'none'}",
        flush=True,
    )
    print(
        f"  XPACK_LICENSE_IS_VALID={str(simulator.xpack_license_is_valid).lower()}, "
        f"TERMINAL_MAGNUS_ENABLED={str(simulator.terminal_magnus_enabled).lower()}",
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


def _flag(name: str, default: str) -> bool:
    return os.environ.get(name, default).lower() == "true"


if __name__ == "__main__":
    main()

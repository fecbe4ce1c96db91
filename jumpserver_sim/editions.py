"""What a JumpServer's edition changes for dbguard: whether Magnus, its DB proxy, accepts the tokens.

The recorded answers (templates.json) are community servers' (XPACK_LICENSE_IS_VALID false,
TERMINAL_MAGNUS_ENABLED true). The connect methods a protocol lists (GET /api/v1/terminal/components/
connect-methods/) are rebuilt here for Magnus from the two settings, as apps/terminal/connect_methods.py
builds them at v3.10.23 and v4.10.16 (the same at v4.10.19 with its default VENDOR):

- Magnus serves mysql, postgresql, oracle, mariadb, redis, sqlserver (ConnectMethodUtil.components,
  match "map"), and mongodb too on v4;
- NativeClient.get_methods: db_client and db_guide for each; without a licence nothing for the xpack
  protocols (postgresql, oracle, sqlserver: `'xpack': True` in assets/const/protocol.py), and on v4
  no db_client (NativeClient.xpack_methods: v3 [mstsc], v4 [mstsc, db_client, vnc_guide]);
- _filter_disable_components_connect_methods drops every magnus method unless TERMINAL_MAGNUS_ENABLED,
  and on v4 (from v4.1.0) also unless XPACK_LICENSE_IS_VALID.

So an unlicensed v3.10 lists db_guide for mysql, mariadb and redis, an unlicensed v4 for nothing, and
a licensed server for every protocol Magnus serves. Only Magnus's methods follow the licence here; the
other components' (razor, applets, virtual apps) stay as recorded.
"""

from __future__ import annotations

from typing import Any

MAGNUS_PROTOCOLS = {
    "v3": ("mysql", "postgresql", "oracle", "mariadb", "redis", "sqlserver"),
    "v4": ("mysql", "postgresql", "oracle", "mariadb", "redis", "sqlserver", "mongodb"),
}
XPACK_PROTOCOLS = frozenset({"postgresql", "oracle", "sqlserver", "db2", "dameng", "clickhouse"})
XPACK_METHODS = {"v3": frozenset(), "v4": frozenset({"db_client"})}  # of Magnus's two
MAGNUS_METHODS = ({"value": "db_client", "label": "DB Client"}, {"value": "db_guide", "label": "DB Guide"})


def magnus_methods(
    version: str, protocol: str, *, licensed: bool, magnus_enabled: bool
) -> list[dict[str, str]]:
    """Magnus's entries in `protocol`'s connect methods on a server of this version and settings."""
    component_on = magnus_enabled and (licensed or version == "v3")
    if not component_on or protocol not in MAGNUS_PROTOCOLS[version]:
        return []
    if not licensed and protocol in XPACK_PROTOCOLS:
        return []
    return [
        {"component": "magnus", "type": "native", "endpoint_protocol": protocol, **method}
        for method in MAGNUS_METHODS  # in NativeClient's order
        if licensed or method["value"] not in XPACK_METHODS[version]
    ]


def connect_methods(
    recorded: dict[str, list[dict[str, Any]]], version: str, *, licensed: bool, magnus_enabled: bool
) -> dict[str, list[dict[str, Any]]]:
    """The recorded answer with Magnus's methods as this server's settings make them (magnus comes
    after koko, chen and lion in ConnectMethodUtil.components, so its entries end a protocol's list)."""
    answer = {
        protocol: [method for method in methods if method.get("component") != "magnus"]
        for protocol, methods in recorded.items()
    }
    for protocol in MAGNUS_PROTOCOLS[version]:
        entries = magnus_methods(version, protocol, licensed=licensed, magnus_enabled=magnus_enabled)
        if entries:
            answer.setdefault(protocol, []).extend(entries)
    return answer

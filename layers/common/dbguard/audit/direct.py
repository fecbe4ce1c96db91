"""Connection attempts that bypassed the JumpServer DB proxy ("direct"), and how one is announced.

The database sees the proxy's own source address for every session that went through JumpServer,
so a connection attempt from any other address - or from no provable address at all - went
around it. Decided while the event is stored, from pre-parsed networks: a few address comparisons
per connection attempt, nothing for other events (docs/audit-ingest.md, "Direct connections").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from pydantic import BaseModel, ConfigDict, Field

from dbguard.audit.models import AuditEvent
from dbguard.audit.params import DATABASE_PARAM_NAMES, first_param, succeeded
from dbguard.audit.parsing import ParsedEvent

ANNOUNCEMENT_SOURCE = "dbguard.audit"
ANNOUNCEMENT_DETAIL_TYPE = "Direct Database Connection Detected"
# What a rule on the default bus matches to receive the announcements (docs/audit-ingest.md)
ANNOUNCEMENT_PATTERN = {"source": [ANNOUNCEMENT_SOURCE], "detail-type": [ANNOUNCEMENT_DETAIL_TYPE]}

Network = IPv4Network | IPv6Network


@dataclass(frozen=True)
class DirectConnectionRules:
    """The template's JumpServerProxyCidrs, DirectConnectionExemptLogins and ConnectionEventNames."""

    proxy_networks: tuple[Network, ...] = ()  # empty: detection is off
    exempt_logins: frozenset[str] = frozenset()
    connection_names: frozenset[str] = frozenset()  # case-folded

    @classmethod
    def of(
        cls, proxy_networks: Iterable[Network], exempt_logins: Iterable[str], connection_names: Iterable[str]
    ) -> DirectConnectionRules:
        return cls(
            tuple(proxy_networks), frozenset(exempt_logins), frozenset(n.casefold() for n in connection_names)
        )

    def is_direct(self, event: AuditEvent) -> bool:
        if not self.proxy_networks or event.name.casefold() not in self.connection_names:
            return False
        if event.user_login in self.exempt_logins:
            return False
        address = _address(event.user_node)
        # No address, a hostname or garbage proves nothing: only a proxy address clears an attempt.
        return address is None or not any(address in network for network in self.proxy_networks)


def _address(user_node: str | None) -> IPv4Address | IPv6Address | None:
    if not user_node:
        return None
    try:
        address = ip_address(user_node)
    except ValueError:
        return None
    # A dual-stack listener reports an IPv4 client as ::ffff:a.b.c.d; the proxy CIDRs say a.b.c.d.
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class DirectConnection(BaseModel):
    """The `detail` of a "Direct Database Connection Detected" event (field names as qhb_audit's)."""

    # Built when the first direct connection is announced: most containers never see one.
    model_config = ConfigDict(populate_by_name=True, frozen=True, defer_build=True)

    id: str = Field(description="dbguard's id of the audit event: GET /audit/events/{id}")
    database: str | None = Field(description="the database, from the event's params; null when not given")
    user_login: str = Field(alias="userLogin", description="the login used")
    user_node: str | None = Field(
        alias="userNode", description="the client address as the database saw it (null when not given)"
    )
    datetime_ms: int = Field(alias="Datetime", description="when the attempt happened, ms since the epoch")
    succeeded: bool | None = Field(
        description="whether the attempt succeeded; null when the event does not say"
    )
    service_name: str = Field(alias="serviceName", description="the QHB server that reported it")
    name: str = Field(description="the event's name, one of ConnectionEventNames")

    @classmethod
    def of(cls, parsed: ParsedEvent) -> DirectConnection:
        event = parsed.event
        return cls(
            id=parsed.id,
            database=first_param(event.params, DATABASE_PARAM_NAMES),
            user_login=event.user_login,
            user_node=event.user_node,
            datetime_ms=event.datetime_ms,
            succeeded=succeeded(event.params),
            service_name=event.service_name,
            name=event.name,
        )

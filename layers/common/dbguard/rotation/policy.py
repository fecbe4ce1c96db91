"""Do the rotation settings keep a valid token in place at all times? Checked at deployment
(a custom resource fails the stack with these messages) and at every cold start.

With a schedule every S seconds, a window W (rotate when the token expires within W), token
lifetime L and consumers caching a secret for up to C seconds:
- a token is first found due with more than W - S left; it then becomes AWSPREVIOUS and must
  outlive every cached copy of it: W - S >= C;
- a rotated token is due again after L - W; that must be longer than one run interval (or every
  run rotates everything), no more often than Secrets Manager advises (10 minutes), and longer
  than C (the next rotation expires the previous token).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeVar

from dbguard.engines import EngineProfile
from dbguard.jumpserver import DbProxyOffer
from dbguard.observability import logger
from dbguard.validation import describe_error

Checked = TypeVar("Checked")

SECRETS_MANAGER_MIN_INTERVAL = 600
RATE_EXPRESSION = r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$"  # RotationSchedule's form
_RATE = re.compile(RATE_EXPRESSION)
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class RotationPolicy:
    schedule: str
    window_seconds: int
    token_lifetime_seconds: int
    consumer_cache_seconds: int
    secrets_manager_days: int = 26  # Secrets Manager's own schedule: a backstop (SecretsManagerRotationDays)

    def problems(self) -> list[str]:
        interval = schedule_interval_seconds(self.schedule)
        if interval is None:
            return [
                f"RotationSchedule {self.schedule!r} is not a rate expression such as 'rate(1 hour)'; "
                "dbguard needs the interval to check that tokens are rotated before they expire"
            ]
        window, lifetime, cache = (
            self.window_seconds,
            self.token_lifetime_seconds,
            self.consumer_cache_seconds,
        )
        found = []
        if window - interval < cache:
            found.append(
                f"RotationWindowSeconds ({window}) must be at least the schedule interval ({interval}) plus "
                f"ConsumerCacheSeconds ({cache}) = {interval + cache}: otherwise a token can expire, or be "
                "expired while applications still use a cached copy, before a run rotates it"
            )
        minimum_gap = max(interval, SECRETS_MANAGER_MIN_INTERVAL, cache)
        if lifetime - window < minimum_gap:
            found.append(
                f"JumpServerTokenLifetimeSeconds ({lifetime}) minus RotationWindowSeconds ({window}) "
                f"must be at least {minimum_gap} s (the schedule interval, Secrets Manager's 10 minutes "
                "between writes, and the consumer cache): otherwise tokens are due again as soon as they "
                "are issued. Raise "
                "CONNECTION_TOKEN_REUSABLE_EXPIRATION in JumpServer or lower the window"
            )
        return found + self._backstop_problems(interval)

    def _backstop_problems(self, interval: int) -> list[str]:
        """Secrets Manager's own schedule rotates a secret `secrets_manager_days` after its last
        rotation: that must come after dbguard's schedule has rotated it (the token is due at
        lifetime - window, and a run finds it within one interval), and before the token expires."""
        backstop = self.secrets_manager_days * 86400
        first_due, lifetime = (
            self.token_lifetime_seconds - self.window_seconds + interval,
            self.token_lifetime_seconds,
        )
        if first_due < backstop < lifetime:
            return []
        return [
            f"SecretsManagerRotationDays ({self.secrets_manager_days}) must lie between "
            f"{first_due / 86400:.1f} and {lifetime / 86400:.1f} days (JumpServerTokenLifetimeSeconds minus "
            "RotationWindowSeconds plus the schedule interval, and JumpServerTokenLifetimeSeconds): "
            "Secrets Manager's own schedule is a backstop that dbguard's schedule must beat, and it must "
            "rotate before the token expires"
        ]


def schedule_interval_seconds(expression: str) -> int | None:
    match = _RATE.match(expression.strip())
    if not match:
        return None
    count, unit = int(match.group(1)), match.group(2).rstrip("s")
    return count * _UNIT_SECONDS[unit] if count > 0 else None


class ServerSettings(Protocol):
    def reusable_tokens_enabled(self) -> bool: ...

    def db_proxy_offer(self) -> DbProxyOffer: ...


# RequireDbProxy: what a JumpServer whose DB proxy accepts no token for an engine of the map does to
# the deployment (a v4.1+ community edition accepts none, v3.10 and v4.0's MySQL, MariaDB and Redis only)
RequireDbProxy = Literal["warn", "fail"]


@dataclass(frozen=True)
class ServerFindings:
    """What the deployment's check found on JumpServer: problems fail the stack, warnings are said."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def server_findings(
    jumpserver: ServerSettings,
    engines: Mapping[str, EngineProfile],
    require_db_proxy: RequireDbProxy = "warn",
) -> ServerFindings:
    """JumpServer's own settings that would make every rotation fail (server_problems), and whether
    its DB proxy accepts the tokens dbguard issues for each engine of the map."""
    findings = ServerFindings(problems=server_problems(jumpserver))
    offer = _checked("DB proxy", jumpserver.db_proxy_offer, findings)
    problem = None if offer is None else db_proxy_problem(offer, engines)
    if problem is not None:
        (findings.problems if require_db_proxy == "fail" else findings.warnings).append(problem)
    return findings


def _checked(what: str, ask: Callable[[], Checked], findings: ServerFindings) -> Checked | None:
    """JumpServer not reachable, or not yet given credentials, is no problem at deployment (the first
    deployment creates the credentials secret empty), but it is said: nothing was checked."""
    try:
        return ask()
    except Exception as error:
        logger.warning("JumpServer settings not checked", extra={"error": describe_error(error)})
        findings.warnings.append(f"JumpServer's {what} not checked: {describe_error(error)}")
        return None


def db_proxy_problem(offer: DbProxyOffer, engines: Mapping[str, EngineProfile]) -> str | None:
    """Which engines' tokens no DB proxy accepts, why, and what to do; None when it accepts them all."""
    engines_of: dict[str, list[str]] = {}
    for name, profile in sorted(engines.items()):
        engines_of.setdefault(profile.protocol, []).append(name)
    missing = {
        protocol: names for protocol, names in sorted(engines_of.items()) if protocol not in offer.protocols
    }
    if not missing:
        return None
    if offer.protocols:
        which = "; ".join(f"{protocol} (engines {', '.join(names)})" for protocol, names in missing.items())
        found = (
            f"JumpServer's DB proxy accepts no connection token for {which}: its connect methods list "
            f"db_guide (Magnus) for {', '.join(sorted(offer.protocols))} only"
        )
    else:
        found = (
            "JumpServer offers no DB proxy at all: its connect methods list db_guide (Magnus) for no protocol"
        )
    return (
        f"{found}. dbguard still issues tokens for such databases and writes them into their secrets, "
        f"but nothing accepts them and applications cannot connect. {_why(offer)}"
    )


def _why(offer: DbProxyOffer) -> str:
    if offer.magnus_enabled is False:
        return (
            "TERMINAL_MAGNUS_ENABLED is false: enable the Magnus component in JumpServer's settings "
            "(and, from v4.1, it also needs a licence)"
        )
    if offer.license_valid is False:
        return (
            "XPACK_LICENSE_IS_VALID is false, a community edition: from v4.1 its DB proxy needs an "
            "enterprise licence, and v3.10 and v4.0 proxy MySQL, MariaDB and Redis only. Use a licensed "
            'JumpServer for these engines (docs/jumpserver.md, "The DB proxy")'
        )
    return "Magnus does not proxy these protocols: map the engines to a protocol it does proxy (EngineMap)"


def server_problems(jumpserver: ServerSettings) -> list[str]:
    """JumpServer's own settings that would make every rotation fail (checked at deployment).

    JumpServer not reachable or not yet given credentials is no problem here: the first stack
    deployment creates the credentials secret empty, and the functions check again at run time."""
    try:
        enabled = jumpserver.reusable_tokens_enabled()
    except Exception as error:
        logger.warning("JumpServer settings not checked", extra={"error": describe_error(error)})
        return []
    if enabled:
        return []
    return [
        "JumpServer's CONNECTION_TOKEN_REUSABLE is off (the default): every token would be one-time and "
        "expire in 300 s. Set CONNECTION_TOKEN_REUSABLE=true in JumpServer's config.txt and restart it"
    ]

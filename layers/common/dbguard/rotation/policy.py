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
from dataclasses import dataclass
from typing import Protocol

from dbguard.observability import logger
from dbguard.validation import describe_error

SECRETS_MANAGER_MIN_INTERVAL = 600
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
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

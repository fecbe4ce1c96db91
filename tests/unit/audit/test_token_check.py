"""The authorizer's token check: a cached token list, refreshed on a miss at most every interval."""

from dbguard.audit.token_check import IngestTokenCheck
from dbguard.audit.tokens import IngestTokens

CURRENT = "current-ingest-token-aaaaaaaaaaaaaaaaaaaaaaa"
NEXT = "next-ingest-token-bbbbbbbbbbbbbbbbbbbbbbbbbbbb"


class FakeSecret:
    """The secret as stored now, and the cached copy a non-fresh read answers."""

    def __init__(self, *tokens: str) -> None:
        self.stored = list(tokens)
        self.cached = list(tokens)
        self.fresh_reads = 0

    def tokens(self, *, fresh: bool) -> IngestTokens:
        if fresh:
            self.fresh_reads += 1
            self.cached = list(self.stored)
        return IngestTokens.model_validate({"tokens": self.cached})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_cached_token_is_found_without_reading_the_secret_again():
    secret = FakeSecret(CURRENT, NEXT)
    check = IngestTokenCheck(secret, clock=Clock())
    assert (check.slot_of(CURRENT), check.slot_of(NEXT)) == (0, 1)
    assert secret.fresh_reads == 0


def test_a_miss_reads_the_secret_again_so_a_new_token_works_at_once():
    secret = FakeSecret(CURRENT)
    check = IngestTokenCheck(secret, clock=Clock())
    secret.stored.append(NEXT)
    assert check.slot_of(NEXT) == 1
    assert secret.fresh_reads == 1


def test_misses_refresh_at_most_once_per_interval():
    secret, clock = FakeSecret(CURRENT), Clock()
    check = IngestTokenCheck(secret, refresh_on_miss_seconds=10, clock=clock)
    assert check.slot_of("wrong-token-cccccccccccccccccccccccc") is None
    secret.stored.append(NEXT)
    clock.now += 9.9
    assert check.slot_of(NEXT) is None  # within the interval: no second read
    clock.now += 0.1
    assert check.slot_of(NEXT) == 1
    assert secret.fresh_reads == 2

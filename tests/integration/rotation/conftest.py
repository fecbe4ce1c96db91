"""moto as Secrets Manager for the rotation's integration tests, with one divergence corrected.

moto (5.2.5) keeps its own pointer to a secret's AWSCURRENT version, which UpdateSecretVersionStage
does not move: dbguard_local.secrets_rotation.current_follows_its_label says why it matters and
corrects it. Secrets Manager moves both labels from wherever they are, as
dbguard_testkit/fakes/secrets.py does; test_secret_stores.py holds moto, so corrected, and the fake to that.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dbguard_local.secrets_rotation import current_follows_its_label


@pytest.fixture(autouse=True)
def moto_moves_awscurrent_from_where_it_is() -> Iterator[None]:
    with current_follows_its_label():
        yield

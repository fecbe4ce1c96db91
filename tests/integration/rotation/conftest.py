"""moto as Secrets Manager for the rotation's integration tests, with one divergence corrected.

moto (5.2.5) keeps its own pointer to a secret's AWSCURRENT version, which PutSecretValue with
`VersionStages=["AWSCURRENT"]` starts its move from, and UpdateSecretVersionStage does not update it:
after a version was made AWSCURRENT by moving the label (Secrets Manager's own rotation,
finishSecret), the next version written AWSCURRENT leaves that one labelled AWSCURRENT too, and
labels an older one AWSPREVIOUS. Secrets Manager moves both labels from wherever they are, as
dbguard_testkit/fakes/secrets.py does; test_secret_stores.py holds moto, so corrected, and the fake to that.
"""

from __future__ import annotations

from typing import Any

import pytest
from moto.secretsmanager.models import SecretsManagerBackend

CURRENT = "AWSCURRENT"


@pytest.fixture(autouse=True)
def moto_moves_awscurrent_from_where_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    move = SecretsManagerBackend.update_secret_version_stage

    def update_secret_version_stage(
        self: SecretsManagerBackend,
        secret_id: str,
        version_stage: str,
        remove_from_version_id: str | None,
        move_to_version_id: str | None,
    ) -> Any:
        answer = move(self, secret_id, version_stage, remove_from_version_id, move_to_version_id)
        if version_stage == CURRENT and move_to_version_id:
            self.secrets[secret_id].set_default_version_id(move_to_version_id)
        return answer

    monkeypatch.setattr(SecretsManagerBackend, "update_secret_version_stage", update_secret_version_stage)

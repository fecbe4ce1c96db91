"""The operator's token check (services/token_status.py): where a leaked token stands while it is
revoked by rotating twice, on the fakes of the rotation's ports."""

from dbguard.rotation.on_demand import TokenCheck
from dbguard.services.token_status import TokenStatus
from tests.unit.rotation.conftest import DATABASE, Rig


def check(rig: Rig, token_id: str, database: str = DATABASE) -> dict:
    status = TokenStatus(rig.registry, rig.secrets, rig.tokens)
    return status.check(TokenCheck.model_validate({"checkToken": token_id, "database": database}))


def test_a_leaked_token_is_revoked_after_two_forced_rotations_and_the_check_says_so():
    rig = Rig()
    leaked = rig.rotated().current_token_id
    assert check(rig, leaked) == {
        "database": DATABASE, "tokenId": leaked, "labels": ["AWSCURRENT"], "validInJumpServer": True,
        "status": "live",
    }  # fmt: skip
    rig.rotator().rotate(rig.entry(), force=True)
    assert (check(rig, leaked)["labels"], check(rig, leaked)["status"]) == (["AWSPREVIOUS"], "live")
    rig.rotator().rotate(rig.entry(), force=True)
    revoked = check(rig, leaked)
    assert (revoked["labels"], revoked["validInJumpServer"], revoked["status"]) == ([], False, "revoked")


def test_an_unknown_database_or_token_is_said_plainly():
    rig = Rig()
    rig.rotated()
    assert check(rig, "0" * 8, database="nobody")["status"] == "not_found"
    assert check(rig, "11111111-2222-3333-4444-555555555555")["status"] == "revoked"

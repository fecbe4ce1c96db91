import pytest
from pydantic import ValidationError

from dbguard.audit.tokens import IngestTokens

CURRENT = "c" * 40
NEXT = "n" * 40


def test_either_of_two_tokens_is_accepted_and_identified_by_slot():
    tokens = IngestTokens.model_validate({"tokens": [CURRENT, NEXT]})
    assert tokens.slot_of(CURRENT) == 0
    assert tokens.slot_of(NEXT) == 1
    assert tokens.slot_of("c" * 39) is None
    assert tokens.slot_of("") is None


def test_the_generated_secret_holds_a_single_string():
    assert IngestTokens.model_validate({"tokens": CURRENT}).slot_of(CURRENT) == 0


@pytest.mark.parametrize(
    "secret",
    [{}, {"tokens": []}, {"tokens": ["tiny-secret-tok"]}, {"tokens": [1]}, {"tokens": ["x" * 40] * 5}],
)
def test_a_malformed_secret_is_refused_without_showing_tokens(secret):
    with pytest.raises(ValidationError) as raised:
        IngestTokens.model_validate(secret)
    assert "tiny-secret-tok" not in repr(raised.value.errors(include_input=False))


def test_tokens_never_show_in_repr():
    assert CURRENT not in repr(IngestTokens.model_validate({"tokens": [CURRENT]}))

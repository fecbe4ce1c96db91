"""What POST /audit/events answers: one event's result, or an array's results and counts."""

from __future__ import annotations

from typing import Annotated, TypedDict

from pydantic import Field


# The answers are TypedDicts, not models: the handler answers them as they are (nothing to validate or
# build on a cold start), and the OpenAPI document reads the same descriptions.
class IngestAnswer(TypedDict):
    """The answer to one event (201 stored now, 200 already stored)."""

    id: Annotated[str, Field(description="dbguard's content-derived id of the event")]
    duplicate: Annotated[
        bool, Field(description="true when this event was stored before: nothing was written")
    ]


class IngestBatchAnswer(TypedDict):
    """The answer to an array: one result per event, in request order."""

    results: list[IngestAnswer]
    stored: Annotated[int, Field(description="events written by this request")]
    duplicates: Annotated[
        int, Field(description="events that were already stored (or repeated in the array)")
    ]

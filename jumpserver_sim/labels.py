"""An asset's `labels`: apps/common/serializers/fields.py LabelRelatedField.to_internal_value, which
differs between the versions, and apps/labels/models.py Label, whose name and value hold at most 64
characters. Up to v4.10.16 nothing validates a label's parts before they are stored (v4.10.19 does)."""

from __future__ import annotations

from typing import Any

from jumpserver_sim.drf import INTERNAL_ERROR, is_uuid, not_found
from jumpserver_sim.state import State

LABEL_PART_MAX_LENGTH = 64  # Label.name and Label.value


def parse_labels(state: State, value: Any, errors: dict[str, Any]) -> list[str]:
    """The labels as "name:value". v4: "k:v" (both parts stripped), {name, value}, {id} or a label id;
    anything else is 400 "Invalid data type". v3: a dict must carry an id, anything else is split on
    ":" (no ":" is a 500)."""
    labels = []
    for label in value or []:
        if label is None:
            continue
        parsed = _label(state, label)
        if parsed is None:
            errors["labels"] = ["Invalid data type"]
        else:
            labels.append(parsed)
    for label in labels:
        _require_storable(label)
        state.label_id(label)
    return labels


def _label(state: State, label: Any) -> str | None:
    """One label as "name:value", or None for v4's "Invalid data type"."""
    label_id = (label.get("id") or label.get("pk")) if isinstance(label, dict) else None
    if label_id:
        return _label_by_id(state, label_id)
    if state.version == "v3":
        if isinstance(label, dict):
            raise not_found("Label")  # Label.objects.get(pk=None)
        if not isinstance(label, str) or ":" not in label:
            raise INTERNAL_ERROR  # k, v = data.split(":", 1)
        return label
    if isinstance(label, str) and is_uuid(label):
        return _label_by_id(state, label)
    if isinstance(label, dict):
        return f"{label.get('name')}:{label.get('value')}"
    if isinstance(label, str) and ":" in label:
        name, _, text = label.partition(":")
        return f"{name.strip()}:{text.strip()}"
    return None


def _label_by_id(state: State, label_id: Any) -> str:
    label = state.labels.get(str(label_id))
    if label is None:
        raise not_found("Label")
    return label


def _require_storable(label: str) -> None:
    """v3.10.23 and v4.10.16 hand a label's parts to Label.objects.get_or_create unchecked: PostgreSQL
    refuses a NUL (psycopg2's ValueError) and a part over the field's max_length (DataError), and
    neither is an APIException, so common_exception_handler leaves both to Django's 500."""
    name, _, value = label.partition(":")
    if "\x00" in label or len(name) > LABEL_PART_MAX_LENGTH or len(value) > LABEL_PART_MAX_LENGTH:
        raise INTERNAL_ERROR

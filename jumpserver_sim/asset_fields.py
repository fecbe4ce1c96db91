"""What a database asset's body may hold: apps/assets/serializers/asset/database.py DatabaseSerializer
(set_db_name_required) over apps/assets/serializers/asset/common.py AssetSerializer (_asset_platform,
validate_protocols, AssetProtocolsSerializer), its `platform` an apps/common/serializers/fields.py
ObjectRelatedField and its name checked by apps/common/validators.py ProjectUniqueValidator. The
same at v3.10.23 and v4.10.16 but for the types whose `db_name` is optional."""

from __future__ import annotations

from typing import Any

from jumpserver_sim.drf import (
    INTERNAL_ERROR,
    MISSING,
    NOT_NULL,
    REQUIRED,
    ApiError,
    boolean,
    char_error,
    django_int,
    drf_int,
    field_error,
    invalid_pk,
    not_a_dict,
    trimmed,
)
from jumpserver_sim.labels import parse_labels
from jumpserver_sim.state import Asset, State

# set_db_name_required: the types whose db_name is optional
DB_NAME_OPTIONAL = {
    "v3": {"mysql", "mariadb"},
    "v4": {"mysql", "mariadb", "oracle", "sqlserver", "db2", "dameng", "clickhouse", "redis"},
}
DEFAULT_PORTS = {"mysql": 3306, "mariadb": 3306}  # any other protocol here is PostgreSQL's 5432


def validate_asset(state: State, body: dict[str, Any], asset: Asset | None) -> dict[str, Any]:
    """DatabaseSerializer field validation (partial when `asset` is given), then its validators.
    Returns the validated values that are not plain strings."""
    partial = asset is not None
    errors: dict[str, Any] = {}
    values: dict[str, Any] = {}
    _check_char_fields(body, partial, errors)
    if "platform" in body or not partial:
        platform = _platform_field(state, body.get("platform", MISSING), errors)
        if platform is not None:
            values["platform"] = platform
    platform = values.get("platform") or (asset.platform if asset else None)
    _check_db_name(state, body, platform, partial, errors)
    if "nodes" in body or not partial:
        values["nodes"] = _node_ids(state, body.get("nodes"), errors)
    if "labels" in body:
        values["labels"] = parse_labels(state, body["labels"], errors)
    if "is_active" in body:
        values["is_active"] = boolean(body["is_active"])
        if values["is_active"] is None:
            errors["is_active"] = ["Must be a valid boolean."]
    if "protocols" in body:
        protocols = _validated_protocols(state, body, asset, errors)
        if protocols is not None:
            values["protocols"] = protocols
    if errors:
        raise ApiError(400, errors)
    # serializer validators run only once every field is valid: Asset.Meta.unique_together
    # (org_id, name) as ProjectUniqueValidator
    name = body.get("name")
    if name is not None and any(a.name == trimmed(name) and a is not asset for a in state.assets.values()):
        raise field_error("name", "This field must be unique.")
    if any(p.get("port") is None for p in values.get("protocols", [])):
        raise INTERNAL_ERROR  # saving a Protocol without a port: NOT NULL constraint
    return values


def asset_platform(state: State, value: Any, asset: Asset | None) -> str:
    """AssetSerializer._asset_platform: Platform.objects.filter(id=value).first()."""
    if isinstance(value, dict):
        value = value.get("id") or value.get("pk")
    if not value and asset is not None:
        return asset.platform
    if value is None:
        name = None
    else:
        platform_id = django_int(value)  # filter(id="PostgreSQL") raises ValueError: a 500
        name = state.platform_by_id(platform_id)
    if name is None:
        raise ApiError(400, {"platform": "Platform not exist"})
    return name


def default_protocols(state: State, platform: str) -> list[dict[str, Any]]:
    protocol = state.platform(platform)[1]
    return [{"name": protocol, "port": DEFAULT_PORTS.get(protocol, 5432)}]


def _check_char_fields(body: dict[str, Any], partial: bool, errors: dict[str, Any]) -> None:
    for key, max_length in (("name", 128), ("address", 767), ("comment", None)):
        if key in body or (not partial and key != "comment"):
            message = char_error(body.get(key, MISSING), max_length, allow_blank=key == "comment")
            if message:
                errors[key] = [message]


def _check_db_name(
    state: State, body: dict[str, Any], platform: str | None, partial: bool, errors: dict[str, Any]
) -> None:
    """set_db_name_required: on create, required unless the platform's type makes it optional; it
    stays required when the platform is unknown."""
    required = not partial and (
        platform is None or state.platform(platform)[1] not in DB_NAME_OPTIONAL[state.version]
    )
    if "db_name" in body or required:
        message = char_error(body.get("db_name", MISSING), 1024, allow_blank=not required)
        if message:
            errors["db_name"] = [message]


def _platform_field(state: State, value: Any, errors: dict[str, Any]) -> str | None:
    """The `platform` field, an ObjectRelatedField (required)."""
    if value is MISSING:
        errors["platform"] = [REQUIRED]
        return None
    if value is None:
        errors["platform"] = [NOT_NULL]
        return None
    pk = value.get("id") or value.get("pk") if isinstance(value, dict) else value
    try:
        if isinstance(pk, bool):
            raise TypeError
        platform_id = int(pk)  # Django's IntegerField lookup: int(value)
    except (TypeError, ValueError):
        errors["platform"] = [f"Incorrect type. Expected pk value, received {type(pk).__name__}."]
        return None
    name = state.platform_by_id(platform_id)
    if name is None:
        errors["platform"] = [invalid_pk(pk)]
    return name


def _node_ids(state: State, value: Any, errors: dict[str, Any]) -> list[str]:
    ids = list(value or [])
    unknown = [node_id for node_id in ids if node_id not in state.nodes]
    if unknown:
        errors["nodes"] = [invalid_pk(unknown[0])]
    return ids


def _validated_protocols(
    state: State, body: dict[str, Any], asset: Asset | None, errors: dict[str, Any]
) -> list[dict[str, Any]] | None:
    """The items, then AssetSerializer.validate_protocols on valid items only: the platform's own
    protocol must be among them."""
    protocols = _protocols(body["protocols"], errors)
    if protocols is None:
        return None
    try:
        platform = asset_platform(state, body.get("platform"), asset)
    except ApiError as error:  # raised in a field validator: nested under "protocols"
        if error.status != 400:
            raise
        errors["protocols"] = error.body
        return None
    primary = state.platform(platform)[1]
    if primary not in {p["name"] for p in protocols}:
        errors["protocols"] = {"protocols": f"Protocol is required: {primary}"}
    return protocols


def _protocols(value: Any, errors: dict[str, Any]) -> list[dict[str, Any]] | None:
    """AssetProtocolsSerializer(many=True): `name` a free string up to 32 characters (there is no
    choice list), `port` optional. Per-item errors as DRF's list."""
    if not isinstance(value, list):
        kind = type(value).__name__
        errors["protocols"] = {"non_field_errors": [f'Expected a list of items but got type "{kind}".']}
        return None
    items: list[dict[str, Any]] = []
    item_errors: list[dict[str, Any]] = []
    for item in value:
        if not isinstance(item, dict):
            item_errors.append(not_a_dict(item))
            continue
        problems: dict[str, Any] = {}
        message = char_error(item.get("name", MISSING), 32)
        if message:
            problems["name"] = [message]
        port, message = _port(item.get("port"))
        if message:
            problems["port"] = [message]
        item_errors.append(problems)
        items.append({"name": str(item.get("name")), "port": port})
    if any(item_errors):
        errors["protocols"] = item_errors
        return None
    return list({p["name"]: p for p in items}.values())  # validate_protocols: one per name


def _port(value: Any) -> tuple[int | None, str | None]:
    """A protocol's port, nullable, an integer 0..65535: the port and the error, if any."""
    if value is None:
        return None, None
    try:
        port = drf_int(value)
    except ValueError:
        return None, "A valid integer is required."
    if port > 65535:
        return port, "Ensure this value is less than or equal to 65535."
    if port < 0:
        return port, "Ensure this value is greater than or equal to 0."
    return port, None

"""How every list endpoint answers: apps/jumpserver/rewriting/pagination.py MaxLimitOffsetPagination
(DRF's LimitOffsetPagination with JumpServer's largest page, apps/jumpserver/conf.py
MAX_LIMIT_PER_PAGE at v3.10.23, MAX_PAGE_SIZE at v4.10.16), and on v4 the cut of unpaginated lists
in apps/common/api/mixin.py limit_queryset_if_no_page (from v4.10.8)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from jumpserver_sim.drf import Request, Response

UNCUT_LIST_LIMIT = 200  # v4 silently cuts an unpaginated list to this many rows
MAX_LIMIT = {"v3": 10000, "v4": 1000}


def page(request: Request, items: list[dict[str, Any]], version: str) -> Response:
    """A limit that is not a positive integer means no pagination; a bad offset is 0; the links are
    absolute and keep every query parameter (rest_framework/utils/urls.py replace_query_param)."""
    limit = _positive_int(request.query.get("limit"), strict=True)
    if limit is None:
        return Response(200, items[:UNCUT_LIST_LIMIT] if version == "v4" else items)
    limit = min(limit, MAX_LIMIT[version])
    offset = _positive_int(request.query.get("offset"), strict=False) or 0
    count = len(items)
    url = f"http://{request.host}{request.path}" if request.host else request.path
    url += f"?{request.raw_query}" if request.raw_query else ""
    next_url = None
    if offset + limit < count:
        next_url = _replace_query(url, limit=limit, offset=offset + limit)
    previous = None
    if offset > 0:
        previous = _replace_query(url, limit=limit, offset=offset - limit if offset - limit > 0 else None)
    window = items[offset : offset + limit]
    return Response(200, {"count": count, "next": next_url, "previous": previous, "results": window})


def _positive_int(value: str | None, *, strict: bool) -> int | None:
    """rest_framework/pagination.py _positive_int; None where DRF falls back to its default."""
    try:
        number = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if number < 0 or (number == 0 and strict):
        return None
    return number


def _replace_query(url: str, **changes: int | None) -> str:
    """rest_framework/utils/urls.py replace_query_param / remove_query_param (a None value)."""
    scheme, netloc, path, query, fragment = urlsplit(url)
    params = parse_qs(query, keep_blank_values=True)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = [str(value)]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(params.items()), doseq=True), fragment))

"""JSON out: orjson, and content negotiation between JSON and GeoJSON."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response, request

GEOJSON = "application/geo+json"


def json_response(
    data: Any, status: int = 200, *, headers: dict[str, str] | None = None, mimetype: str = "application/json"
) -> Response:
    return Response(orjson.dumps(data), status=status, headers=headers, mimetype=mimetype)


def wants_geojson(fmt: str | None) -> bool:
    """`format=geojson`, or an Accept header that prefers GeoJSON over plain JSON."""
    if fmt:
        return fmt == "geojson"
    accept = request.accept_mimetypes
    return accept.best_match(["application/json", GEOJSON], default="application/json") == GEOJSON and (
        accept[GEOJSON] > 0
    )


def etag(version: int | str) -> str:
    """A strong entity tag: a record's version, or a computed tag such as a team's."""
    return f'"{version}"'

"""JSON out: orjson, and content negotiation between JSON and GeoJSON."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response, request, url_for

GEOJSON = "application/geo+json"
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BINARY = {"type": "string", "format": "binary"}  # the schema of a file answered
_PLAIN_JSON = frozenset({"", "*/*", "application/json"})


def json_response(
    data: Any, status: int = 200, *, headers: dict[str, str] | None = None, mimetype: str = "application/json"
) -> Response:
    return Response(orjson.dumps(data), status=status, headers=headers, mimetype=mimetype)


def wants_geojson(fmt: str | None) -> bool:
    """`format=geojson`, or an Accept header that prefers GeoJSON over plain JSON."""
    if fmt:
        return fmt == "geojson"
    header = request.headers.get("Accept")
    if header is None or header in _PLAIN_JSON:  # what most clients send: no need to parse it
        return False
    accept = request.accept_mimetypes
    return accept.best_match(["application/json", GEOJSON], default="application/json") == GEOJSON and (
        accept[GEOJSON] > 0
    )


def feature(item: dict[str, Any], geometry: str) -> dict[str, Any]:
    """A GeoJSON Feature of an answer's item: its `geometry` member the geometry, its other members the properties."""
    properties = {k: v for k, v in item.items() if k not in ("id", geometry)}
    return {"type": "Feature", "id": item["id"], "geometry": item[geometry], "properties": properties}


def json_or_features(body: dict[str, Any], fmt: str | None, geometry: str) -> Response:
    """An answer with `items` as JSON, or as a GeoJSON FeatureCollection (its other members kept) when the client
    asks for GeoJSON (`wants_geojson`)."""
    if wants_geojson(fmt):
        features = [feature(item, geometry) for item in body.pop("items")]
        return json_response({"type": "FeatureCollection", "features": features, **body}, mimetype=GEOJSON)
    return json_response(body)


def record_response(body: dict[str, Any], status: int = 200, *, endpoint: str, **url_values: Any) -> Response:
    """One record as JSON, with its version as ETag and, when just created (201), its Location at `endpoint`."""
    headers = {"ETag": etag(body["version"])}
    if status == 201:
        headers["Location"] = url_for(endpoint, **url_values)
    return json_response(body, status, headers=headers)


def etag(version: int | str) -> str:
    """A strong entity tag: a record's version, or a computed tag such as a team's."""
    return f'"{version}"'

"""Fields shared by all resources; the one GeoJSON field lives here."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from api.errors import coded
from geo.errors import GeometryError
from geo.geojson import MAX_VERTICES, parse_areal

_POLYGON_EXAMPLE = {
    "type": "Polygon",
    "coordinates": [[[113.0, 28.0], [113.01, 28.0], [113.01, 28.01], [113.0, 28.01], [113.0, 28.0]]],
}


class AreaGeometry(ma.fields.Field):
    """A GeoJSON Polygon or MultiPolygon (RFC 7946: WGS-84, [longitude, latitude]), loaded as a valid shapely geometry.

    Each rule broken is a field error whose code names it: geojson-malformed, geometry-type-not-allowed,
    coordinates-out-of-range, ring-too-few-positions, ring-not-closed, too-many-vertices,
    geometry-self-intersection, geometry-invalid.
    """

    def __init__(self, **kwargs: Any) -> None:
        metadata = {
            "type": "object",
            "description": "GeoJSON Polygon or MultiPolygon, WGS-84 [longitude, latitude], rings closed, "
            f"valid (no self-intersection), at most {MAX_VERTICES} vertices",
            "example": _POLYGON_EXAMPLE,
            **kwargs.pop("metadata", {}),
        }
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        try:
            return parse_areal(value)
        except GeometryError as exc:
            raise ma.ValidationError(coded(exc.code, exc.message)) from exc


class GeoJSONObject(ma.fields.Dict):
    """A GeoJSON geometry on output (documentation only: lists are serialised without marshmallow)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(metadata={"description": "GeoJSON geometry, WGS-84", **kwargs.pop("metadata", {})}, **kwargs)

"""The spatial questions about enterprises: near a point, the nearest, in a map's box, near any geometry."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.auth import current_caller
from api.db import db
from api.enterprises import schemas as s
from api.enterprises.resources import READ_NOTE, answer, enterprise_dict, enterprises
from api.pagination import list_answer, split_paging
from api.responses import GEOJSON
from api.territory.schemas import FeatureCollectionSchema
from geo.coords import to_wgs84
from models.base import dialect_of
from models.enterprises.nearby import box_listing, near_geometry_listing, nearest_n, within_radius
from models.roles import ALL_ROLES

_POINT = ("lon", "lat", "coord_system", "format")


def _at(arguments: dict[str, Any]) -> tuple[float, float, str | None, dict[str, Any]]:
    """The point asked about in WGS-84, the format, and the remaining filters."""
    lon, lat = to_wgs84(arguments["lon"], arguments["lat"], arguments["coord_system"])
    filters = {k: v for k, v in arguments.items() if k not in _POINT}
    return round(lon, 7), round(lat, 7), arguments.get("format"), filters


def _nearby(rows: list[dict[str, Any]], lon: float, lat: float, fmt: str | None, **extra: Any) -> Any:
    """Enterprises near the point, each with its distance, and the point asked about (WGS-84)."""
    items = []
    for row in rows:
        distance = row.pop("distance_m")
        item = enterprise_dict(row)
        item["distance_m"] = round(distance, 1)
        items.append(item)
    position = {"lon": lon, "lat": lat, "coord_system": "wgs84"}
    return answer({"items": items, "position": position, **extra}, fmt)


@enterprises.route("/within-radius")
class WithinRadius(MethodView):
    @enterprises.access(*ALL_ROLES, note=READ_NOTE)
    @enterprises.query(s.WithinRadiusArgs)
    @enterprises.response(200, s.NearbyAnswerSchema)
    @enterprises.alt_response(200, schema=s.NearbyFeatureCollectionSchema, content_type=GEOJSON, success=True)
    def get(self, **arguments: Any) -> Any:
        """Enterprises near a point

        Within `radius_m` geodesic metres of the point, nearest first (ties by id), each with `distance_m`; at most
        `limit` of them, and `truncated: true` when more lie within the radius. With every filter of the list.
        """
        lon, lat, fmt, filters = _at(arguments)
        radius, limit = filters.pop("radius_m"), filters.pop("limit")
        rows, truncated = within_radius(
            db.session(), caller=current_caller(), lon=lon, lat=lat, radius_m=radius, limit=limit, **filters
        )
        return _nearby(rows, lon, lat, fmt, truncated=truncated)


@enterprises.route("/nearest")
class Nearest(MethodView):
    @enterprises.access(*ALL_ROLES, note=READ_NOTE)
    @enterprises.query(s.NearestArgs)
    @enterprises.response(200, s.NearbyAnswerSchema)
    @enterprises.alt_response(200, schema=s.NearbyFeatureCollectionSchema, content_type=GEOJSON, success=True)
    def get(self, **arguments: Any) -> Any:
        """The nearest enterprises

        The `n` enterprises nearest to the point (geodesic), nearest first (ties by id), each with `distance_m`;
        fewer when fewer match the filters in your scope.
        """
        lon, lat, fmt, filters = _at(arguments)
        rows = nearest_n(db.session(), caller=current_caller(), lon=lon, lat=lat, n=filters.pop("n"), **filters)
        return _nearby(rows, lon, lat, fmt)


@enterprises.route("/in-box")
class InBox(MethodView):
    @enterprises.access(*ALL_ROLES, note=READ_NOTE)
    @enterprises.query(s.InBoxArgs)
    @enterprises.response(200, s.EnterprisePageSchema)
    @enterprises.alt_response(200, schema=FeatureCollectionSchema, content_type=GEOJSON, success=True)
    def get(self, bbox: str, format: str | None = None, **arguments: Any) -> Any:  # noqa: A002
        """Enterprises in a map's view

        Inside the box `bbox` (west,south,east,north; WGS-84; edges included), by id, paged by cursor with pages of
        up to 1,000: a map draws page after page. With every filter of the list.
        """
        paging, filters = split_paging(arguments)
        session = db.session()
        bounds = tuple(map(float, bbox.split(",")))
        listing = box_listing(caller=current_caller(), dialect=dialect_of(session), bounds=bounds, **filters)
        return answer(list_answer(listing, paging, enterprise_dict), format)


@enterprises.route("/near-geometry")
class NearGeometry(MethodView):
    @enterprises.access(*ALL_ROLES, note=READ_NOTE)
    @enterprises.query(s.NearGeometryArgs)
    @enterprises.arguments(s.NearGeometrySchema)
    @enterprises.response(200, s.EnterprisePageSchema)
    @enterprises.alt_response(200, schema=FeatureCollectionSchema, content_type=GEOJSON, success=True)
    def post(self, body: dict[str, Any], format: str | None = None, **arguments: Any) -> Any:  # noqa: A002
        """Enterprises near a geometry

        Within `distance_m` geodesic metres of any part of the GeoJSON `geometry` in the body (a river, a pipeline,
        a planned road; a polygon counts its inside): "hazardous-chemical plants within 500 m of this river" is
        `?sector=hazardous_chemicals` with the river and 500. By name, paged by cursor: send the same body with
        `cursor`. A question, not a write: it changes nothing and needs no Idempotency-Key.
        """
        paging, filters = split_paging(arguments)
        session = db.session()
        listing = near_geometry_listing(
            caller=current_caller(),
            dialect=dialect_of(session),
            geometry=body["geometry"],
            distance_m=body["distance_m"],
            **filters,
        )
        return answer(list_answer(listing, paging, enterprise_dict), format)

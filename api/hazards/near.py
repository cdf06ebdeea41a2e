"""The hazard questions by place over HTTP: near a point, in a map's box (a cell's, a village's or a township's hazards
are the list's filters: the place is derived from the geometry and kept true)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.auth import current_caller
from api.db import db
from api.hazards import schemas as s
from api.hazards.resources import READ_NOTE, hazard_dict, hazards
from api.pagination import list_answer, split_paging
from api.responses import GEOJSON, json_or_features
from api.territory.schemas import FeatureCollectionSchema
from geo.coords import to_wgs84
from models.base import county_today, dialect_of
from models.hazards.queries import hazard_box_listing, hazards_within_radius
from models.roles import ALL_ROLES


@hazards.route("/within-radius")
class HazardsWithinRadius(MethodView):
    @hazards.access(*ALL_ROLES, note=READ_NOTE)
    @hazards.query(s.HazardsWithinRadiusArgs)
    @hazards.response(200, s.HazardsNearbySchema)
    @hazards.alt_response(200, schema=s.HazardsNearbyFeaturesSchema, content_type=GEOJSON, success=True)
    def get(self, lon: float, lat: float, coord_system: str, radius_m: float, limit: int, **filters: Any) -> Any:
        """Hazards near a point

        Within `radius_m` geodesic metres of the point, nearest first (ties by id), each with `distance_m`; at most
        `limit`, and `truncated: true` when more lie within the radius. With every filter of the list; through the
        spatial index on both backends.
        """
        fmt = filters.pop("format", None)
        lon, lat = (round(v, 7) for v in to_wgs84(lon, lat, coord_system))
        rows, truncated = hazards_within_radius(
            db.session(), caller=current_caller(), lon=lon, lat=lat, radius_m=radius_m, limit=limit, **filters
        )
        today, items = county_today(), []
        for row in rows:
            distance = row.pop("distance_m")
            items.append({**hazard_dict(row, today), "distance_m": round(distance, 1)})
        position = {"lon": lon, "lat": lat, "coord_system": "wgs84"}
        return json_or_features({"items": items, "position": position, "truncated": truncated}, fmt, "location")


@hazards.route("/in-box")
class HazardsInBox(MethodView):
    @hazards.access(*ALL_ROLES, note=READ_NOTE)
    @hazards.query(s.HazardsInBoxArgs)
    @hazards.response(200, s.HazardPageSchema)
    @hazards.alt_response(200, schema=FeatureCollectionSchema, content_type=GEOJSON, success=True)
    def get(self, bbox: str, format: str | None = None, **arguments: Any) -> Any:  # noqa: A002
        """Hazards in a map's view

        Inside the box `bbox` (west,south,east,north; WGS-84; edges included), by id, paged by cursor with pages of
        up to 1,000. With every filter of the list.
        """
        paging, filters = split_paging(arguments)
        session, today = db.session(), county_today()
        bounds = tuple(map(float, bbox.split(",")))
        listing = hazard_box_listing(caller=current_caller(), dialect=dialect_of(session), bounds=bounds, **filters)
        return json_or_features(list_answer(listing, paging, lambda row: hazard_dict(row, today)), format, "location")

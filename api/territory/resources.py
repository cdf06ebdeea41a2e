"""Townships, villages and grid cells: one blueprint per level, built by the same factory."""

from __future__ import annotations

from typing import Any

import orjson
from flask import request
from flask.views import MethodView

from api.auth import current_caller
from api.conditional import expected_version
from api.db import db
from api.extensions import Blueprint
from api.pagination import CursorArgs, list_answer, split_paging
from api.responses import GEOJSON, etag, json_or_features, json_response, record_response
from api.territory import schemas as s
from geo.coords import to_wgs84
from geo.geojson import to_geojson
from geo.measure import TOLERANCE_M
from models.errors import NotFound
from models.people.queries import has_owner_clause
from models.roles import ALL_ROLES, Role
from models.territory import GRID_CELL, TOWNSHIP, VILLAGE, Level
from models.territory.queries import coverage_gaps, locate_cell, unit_listing, unit_row
from models.territory.service import create_unit, retire_unit, update_unit

READ_NOTE = (
    "Each within their scope: the whole county, one township, or a grid officer's own cells (and their village "
    "and township); anything else answers 404."
)
LEADER_NOTE = "A township leader works within their own township; anything outside it answers 404."
_NOT_PROPERTIES = ("boundary_geojson", "centroid_lon", "centroid_lat")


def unit_dict(row: dict[str, Any]) -> dict[str, Any]:
    """A unit row (see `unit_select`) as the API shows it; the GeoJSON text from the database goes in unparsed."""
    out = {k: v for k, v in row.items() if k not in _NOT_PROPERTIES}
    out["area_m2"] = round(row["area_m2"], 1)
    out["centroid"] = {"type": "Point", "coordinates": [round(row["centroid_lon"], 7), round(row["centroid_lat"], 7)]}
    out["boundary"] = orjson.Fragment(row["boundary_geojson"])
    return out


def item_response(level: Level, unit_id: int, status: int = 200) -> Any:
    row = unit_row(db.session(), caller=current_caller(), level=level, unit_id=unit_id)
    return record_response(unit_dict(row), status, endpoint=f"{request.blueprint}.Item", unit_id=unit_id)


def make_blueprint(
    level: Level,
    url: str,
    *,
    item_schema: type,
    page_schema: type,
    create_schema: type,
    list_args: type,
    writers: tuple[Role, ...],
    writers_note: str = "",
) -> Blueprint:
    """The standard resource of a level: list, create, get, patch (If-Match), retire."""
    label = level.label
    by_cursor = issubclass(list_args, CursorArgs)
    paging_doc = "paged by cursor" if by_cursor else "paged by page number"
    collection_schema = s.FeatureCollectionSchema if by_cursor else s.FeatureCollectionPageSchema
    blp = Blueprint(url, __name__, url_prefix=f"/api/v1/{url}", description=f"{label.capitalize()}s")

    @blp.route("")
    class Collection(MethodView):
        @blp.access(*ALL_ROLES, note=READ_NOTE)
        @blp.query(list_args)
        @blp.response(200, page_schema)
        @blp.alt_response(200, schema=collection_schema, content_type=GEOJSON, success=True)
        @blp.doc(
            summary=f"List {label}s",
            description=f"Active {label}s in code order, {paging_doc}; `include_retired=true` adds retired ones. "
            "Answers a GeoJSON FeatureCollection with `format=geojson` or `Accept: application/geo+json`.",
        )
        def get(
            self,
            include_retired: bool = False,
            name: str | None = None,
            code: str | None = None,
            format: str | None = None,  # noqa: A002
            has_owner: bool | None = None,
            **arguments: Any,
        ) -> Any:
            paging, equals = split_paging(arguments)
            listing = unit_listing(
                caller=current_caller(),
                level=level,
                equals=equals,
                name=name,
                code_prefix=code,
                include_retired=include_retired,
            )
            if has_owner is not None:
                listing = listing.filtered(has_owner_clause(has_owner))
            return json_or_features(list_answer(listing, paging, unit_dict), format, "boundary")

        @blp.access(*writers, note=writers_note)
        @blp.idempotent()
        @blp.arguments(create_schema)
        @blp.response(201, item_schema)
        @blp.problem(409, "the code is taken")
        @blp.doc(
            summary=f"Create a {label}",
            description=f"The boundary must be valid, lie within its parent and not overlap active sibling "
            f"{label}s, both up to the {TOLERANCE_M:g} m digitising tolerance. Answers the record with its "
            "ETag and Location.",
        )
        def post(self, data: dict[str, Any]) -> Any:
            parent_id = data.pop(level.parent_fk) if level.parent_fk else None
            unit = create_unit(db.session(), caller=current_caller(), level=level, parent_id=parent_id, **data)
            return item_response(level, unit.id, 201)

    @blp.route("/<int:unit_id>")
    class Item(MethodView):
        @blp.access(*ALL_ROLES, note=READ_NOTE)
        @blp.response(200, item_schema)
        @blp.problem(404, "no such unit")
        @blp.doc(summary=f"Get a {label}", description="Retired ones too; the ETag header carries the version.")
        def get(self, unit_id: int) -> Any:
            return item_response(level, unit_id)

        @blp.access(*writers, note=writers_note)
        @blp.arguments(s.UnitPatchSchema)
        @blp.response(200, item_schema)
        @blp.if_match()
        @blp.problem(404, "no such unit")
        @blp.problem(409, "the unit is retired")
        @blp.doc(
            summary=f"Rename or redraw a {label}",
            description="Requires If-Match with the ETag from a GET. A new boundary is checked like a new one, "
            "and must still hold every active child.",
        )
        def patch(self, data: dict[str, Any], unit_id: int) -> Any:
            update_unit(
                db.session(),
                caller=current_caller(),
                level=level,
                unit_id=unit_id,
                expected_version=expected_version(),
                **data,
            )
            return item_response(level, unit_id)

    @blp.route("/<int:unit_id>/retire")
    class Retirement(MethodView):
        @blp.access(*writers, note=writers_note)
        @blp.idempotent()
        @blp.response(200, item_schema)
        @blp.if_match()
        @blp.problem(404, "no such unit")
        @blp.problem(409, "the unit still has active children (or, for a cell, officers in charge)")
        @blp.doc(
            summary=f"Retire a {label}",
            description="Nothing is deleted: a retired unit keeps its code and history, leaves the default lists, "
            "and no longer counts in locate or overlap checks. Retire its children first. Retiring twice is "
            "harmless.",
        )
        def post(self, unit_id: int) -> Any:
            retire_unit(
                db.session(), caller=current_caller(), level=level, unit_id=unit_id, expected_version=expected_version()
            )
            return item_response(level, unit_id)

    return blp


townships = make_blueprint(
    TOWNSHIP,
    "townships",
    item_schema=s.TownshipSchema,
    page_schema=s.TownshipPageSchema,
    create_schema=s.TownshipCreateSchema,
    list_args=s.TownshipListArgs,
    writers=(Role.COUNTY_ADMIN,),
)
villages = make_blueprint(
    VILLAGE,
    "villages",
    item_schema=s.VillageSchema,
    page_schema=s.VillagePageSchema,
    create_schema=s.VillageCreateSchema,
    list_args=s.VillageListArgs,
    writers=(Role.COUNTY_ADMIN, Role.TOWNSHIP_LEADER),
    writers_note=LEADER_NOTE,
)
grid_cells = make_blueprint(
    GRID_CELL,
    "grid-cells",
    item_schema=s.GridCellSchema,
    page_schema=s.GridCellPageSchema,
    create_schema=s.GridCellCreateSchema,
    list_args=s.GridCellListArgs,
    writers=(Role.COUNTY_ADMIN, Role.TOWNSHIP_LEADER),
    writers_note=LEADER_NOTE,
)


@villages.route("/<int:unit_id>/coverage-gaps")
class VillageCoverageGaps(MethodView):
    @villages.access(Role.COUNTY_ADMIN, Role.TOWNSHIP_LEADER, Role.VIEWER)
    @villages.response(200, s.CoverageGapsSchema)
    @villages.problem(404, "no such village")
    def get(self, unit_id: int) -> Any:
        """What no cell covers yet

        The part of the village that no active grid cell covers, as GeoJSON with its area, so that a leader sees
        what is left unassigned. Gaps nowhere wider than the digitising tolerance are ignored.
        """
        result = coverage_gaps(db.session(), caller=current_caller(), village_id=unit_id)
        village, gaps = result.village, result.gaps
        gap_area = gaps.area_m2 if gaps else 0.0
        return json_response(
            {
                "village_id": village.id,
                "village_code": village.code,
                "village_area_m2": round(village.area_m2, 1),
                "cell_count": result.cell_count,
                "gap_area_m2": round(gap_area, 1),
                "covered_ratio": round(1 - gap_area / village.area_m2, 6) if village.area_m2 else 0.0,
                "tolerance_m": TOLERANCE_M,
                "gaps": to_geojson(gaps.geometry) if gaps else None,
            }
        )


@grid_cells.route("/locate")
class GridCellLocate(MethodView):
    @grid_cells.access(*ALL_ROLES, note=READ_NOTE)
    @grid_cells.query(s.LocateArgs)
    @grid_cells.response(200, s.LocatedCellSchema)
    @grid_cells.problem(404, "no active cell contains the point")
    def get(self, lon: float, lat: float, coord_system: Any) -> Any:
        """Which cell am I in

        The active grid cell containing the point, with its village and township. Positions from Amap or Tencent
        (`coord_system=gcj02`) and Baidu (`bd09`) are converted to WGS-84 first. A point on the edge shared by
        two cells answers the one with the lower code. Goes through the spatial index on both backends. Only cells
        in the caller's scope are found: for a grid officer, a point outside their own cells answers 404.
        """
        wlon, wlat = to_wgs84(lon, lat, coord_system)
        row = locate_cell(db.session(), caller=current_caller(), lon=wlon, lat=wlat)
        if row is None:
            raise NotFound(
                f"no active grid cell in your scope contains [{wlon:.6f}, {wlat:.6f}] (WGS-84)", code="no-cell-here"
            )
        village = {"id": row["village_id"], "code": row.pop("village_code"), "name": row.pop("village_name")}
        township = {"id": row["township_id"], "code": row.pop("township_code"), "name": row.pop("township_name")}
        position = {"lon": round(wlon, 7), "lat": round(wlat, 7), "coord_system": "wgs84"}
        cell = unit_dict(row) | {"village": village, "township": township, "position": position}
        return json_response(cell, headers={"ETag": etag(row["version"])})


BLUEPRINTS = (townships, villages, grid_cells)

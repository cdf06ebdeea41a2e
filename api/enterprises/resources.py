"""Enterprises: thin views over `models.enterprises` (the register; the spatial questions in `api.enterprises.near`)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.auth import current_caller
from api.conditional import expected_version
from api.db import db
from api.enterprises import schemas as s
from api.extensions import Blueprint
from api.pagination import list_answer, split_paging
from api.responses import GEOJSON, json_or_features, record_response
from api.territory.schemas import FeatureCollectionSchema
from models.enterprises.queries import enterprise_listing, enterprise_row
from models.enterprises.service import close_enterprise, create_enterprise, update_enterprise
from models.roles import ALL_ROLES, MANAGERS

READ_NOTE = (
    "Each within their scope: the whole county; a township; a grid officer's own cells; department staff, the "
    "enterprises their department supervises. Anything else answers 404."
)
WRITE_NOTE = "A township leader: the enterprises that stand in their own township (and only there)."

enterprises = Blueprint(
    "enterprises",
    __name__,
    url_prefix="/api/v1/enterprises",
    description="Enterprises (生产经营单位): territory (属地) and sector (行业)",
)


def enterprise_dict(row: dict[str, Any]) -> dict[str, Any]:
    """The answer for a row of ENTERPRISE_SELECT (a dict of its own, changed in place)."""
    row["location"] = {"type": "Point", "coordinates": [row.pop("lon"), row.pop("lat")]}
    row["unassigned"] = row["cell_id"] is None
    return row


def answer(body: dict[str, Any], fmt: str | None) -> Any:
    """A page of enterprises as JSON, or as a GeoJSON FeatureCollection when asked."""
    return json_or_features(body, fmt, "location")


def enterprise_response(enterprise_id: int, status: int = 200) -> Any:
    row = enterprise_row(db.session(), caller=current_caller(), enterprise_id=enterprise_id)
    return record_response(
        enterprise_dict(row), status, endpoint="enterprises.EnterpriseItem", enterprise_id=enterprise_id
    )


def _position(data: dict[str, Any]) -> dict[str, Any]:
    position = data.pop("position", None)
    return {"lon": position["lon"], "lat": position["lat"]} if position else {}


@enterprises.route("")
class Enterprises(MethodView):
    @enterprises.access(*ALL_ROLES, note=READ_NOTE)
    @enterprises.query(s.EnterpriseListArgs)
    @enterprises.response(200, s.EnterprisePageSchema)
    @enterprises.alt_response(200, schema=FeatureCollectionSchema, content_type=GEOJSON, success=True)
    def get(self, format: str | None = None, **arguments: Any) -> Any:  # noqa: A002
        """List enterprises

        Live enterprises in the caller's scope by name (then id), paged by cursor, with the filters of every
        enterprise question; `include_closed=true` adds closed records. Answers a GeoJSON FeatureCollection with
        `format=geojson` or `Accept: application/geo+json`.
        """
        paging, filters = split_paging(arguments)
        return answer(
            list_answer(enterprise_listing(caller=current_caller(), **filters), paging, enterprise_dict), format
        )

    @enterprises.access(*MANAGERS, note=WRITE_NOTE)
    @enterprises.idempotent()
    @enterprises.arguments(s.EnterpriseCreateSchema)
    @enterprises.response(201, s.EnterpriseSchema)
    @enterprises.problem(409, "a live enterprise has this credit code (`existing_id`)")
    def post(self, data: dict[str, Any]) -> Any:
        """Register an enterprise

        Its place (grid cell, village, township) is derived from `position`, and its supervising departments from
        its sector unless `department_ids` names them. A location in no active cell is kept and flagged
        `unassigned`.
        """
        enterprise = create_enterprise(db.session(), caller=current_caller(), **_position(data), **data)
        return enterprise_response(enterprise.id, 201)


@enterprises.route("/<int:enterprise_id>")
class EnterpriseItem(MethodView):
    @enterprises.access(*ALL_ROLES, note=READ_NOTE)
    @enterprises.response(200, s.EnterpriseSchema)
    @enterprises.problem(404, "no such enterprise in your scope")
    def get(self, enterprise_id: int) -> Any:
        """Get an enterprise"""
        return enterprise_response(enterprise_id)

    @enterprises.access(*MANAGERS, note=WRITE_NOTE)
    @enterprises.arguments(s.EnterprisePatchSchema)
    @enterprises.response(200, s.EnterpriseSchema)
    @enterprises.if_match()
    @enterprises.problem(404, "no such enterprise in your scope")
    @enterprises.problem(409, "the enterprise is closed, or the credit code is taken")
    def patch(self, data: dict[str, Any], enterprise_id: int) -> Any:
        """Change an enterprise

        A new `position` moves it and derives its place again; a new sector takes that sector's departments
        (unless they were set by hand); `department_ids: null` makes them follow the sector again.
        """
        update_enterprise(
            db.session(),
            caller=current_caller(),
            enterprise_id=enterprise_id,
            expected_version=expected_version(),
            **_position(data),
            **data,
        )
        return enterprise_response(enterprise_id)


@enterprises.route("/<int:enterprise_id>/close")
class EnterpriseClosure(MethodView):
    @enterprises.access(*MANAGERS, note=WRITE_NOTE)
    @enterprises.idempotent()
    @enterprises.arguments(s.EnterpriseCloseSchema)
    @enterprises.response(200, s.EnterpriseSchema)
    @enterprises.if_match()
    @enterprises.problem(404, "no such enterprise in your scope")
    def post(self, data: dict[str, Any], enterprise_id: int) -> Any:
        """Close an enterprise's record

        Shut down, deregistered, or entered twice: the record stays with its history (status `closed`), leaves the
        lists, and its credit code is free for a new record. Closing twice is harmless.
        """
        close_enterprise(
            db.session(),
            caller=current_caller(),
            enterprise_id=enterprise_id,
            expected_version=expected_version(),
            reason=data["reason"],
        )
        return enterprise_response(enterprise_id)


BLUEPRINTS = (enterprises,)

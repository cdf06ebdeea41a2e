"""Patrol records over HTTP: upload one, a batch (an offline backlog), list, get, the track."""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
from flask import url_for
from flask.views import MethodView

from api.auth import current_caller
from api.db import db
from api.errors import flatten_messages
from api.extensions import Blueprint
from api.pagination import list_answer, split_paging
from api.patrols import schemas as s
from api.responses import GEOJSON, json_response
from models.errors import DomainError
from models.patrols.queries import check_in_listing, patrol_listing, patrol_points, patrol_row
from models.patrols.service import CREATED, RECORDERS, store_patrol
from models.roles import ALL_ROLES

READ_NOTE = (
    "Each within their scope: the county; a township, the patrols of its cells; a grid officer, those in their cells "
    "and those they took part in; department staff, those they recorded. Anything else answers 404."
)
WRITE_NOTE = "The cells and the enterprises checked in at are in the caller's scope."

patrols = Blueprint(
    "patrols",
    __name__,
    url_prefix="/api/v1/patrols",
    description="Patrols and inspections (巡查/检查) from mobile apps",
)
_upload = s.PatrolUploadSchema()


def _answer(patrol_id: int, status: int) -> Any:
    row = patrol_row(db.session(), caller=current_caller(), patrol_id=patrol_id)
    headers = {"Location": url_for("patrols.PatrolItem", patrol_id=patrol_id)} if status == 201 else {}
    return json_response(row, status, headers=headers)


@patrols.route("")
class Patrols(MethodView):
    @patrols.access(*ALL_ROLES, note=READ_NOTE)
    @patrols.query(s.PatrolListArgs)
    @patrols.response(200, s.PatrolPageSchema)
    def get(self, **arguments: Any) -> Any:
        """List patrols

        In the caller's scope, newest started first, paged by cursor; by kind, township, village, cell,
        participating officer (an officer's history), recorder, start time and plausibility flags.
        """
        paging, filters = split_paging(arguments)
        listing = patrol_listing(caller=current_caller(), **filters)
        return json_response(list_answer(listing, paging, lambda row: {**row, "check_ins": [], "findings": []}))

    @patrols.access(*sorted(RECORDERS), note=WRITE_NOTE)
    @patrols.idempotent()
    @patrols.arguments(s.PatrolUploadSchema)
    @patrols.response(201, s.PatrolSchema)
    @patrols.alt_response(200, schema=s.PatrolSchema, description="stored before, with the same content")
    @patrols.problem(409, "the UUID was stored with other content (`existing_id`)")
    def post(self, record: dict[str, Any]) -> Any:
        """Upload a patrol record

        Stored once, whatever the retries: the record's `uuid` is its identity. Sent again with the same content it
        answers the stored record (200); with other content, 409 `patrol-uuid-reused` and nothing changes. The
        patrol, its cells and its check-ins are one transaction. An `Idempotency-Key` is accepted as on every write,
        but not needed: the UUID is one.
        """
        patrol, outcome = store_patrol(db.session(), caller=current_caller(), record=record)
        return _answer(patrol.id, 201 if outcome == CREATED else 200)


@patrols.route("/batch")
class PatrolBatch(MethodView):
    @patrols.access(*sorted(RECORDERS), note=WRITE_NOTE)
    @patrols.idempotent()
    @patrols.arguments(s.BatchSchema)
    @patrols.response(200, s.BatchAnswerSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Upload an offline backlog

        Up to 100 records, each checked and stored on its own transaction, as POST /patrols would: the answer says
        per record `created`, `stored` (sent before, same content) or `refused` (with the status, code, detail and
        field errors POST /patrols would have answered). Good records land even when others are refused; a
        refused record leaves nothing behind. Sending the same batch again stores nothing twice.
        """
        session, caller, items = db.session(), current_caller(), []
        for index, raw in enumerate(body["patrols"]):
            sent = raw.get("uuid")
            uuid = sent.lower() if isinstance(sent, str) and re.fullmatch(s.UUID_PATTERN, sent) else None
            base = {"index": index, "uuid": uuid, "id": None, "code": None, "detail": None, "errors": []}
            try:
                record = _upload.load(raw)
                patrol, outcome = store_patrol(session, caller=caller, record=record)
            except ma.ValidationError as error:
                session.rollback()
                # (a member's name as sent, NUL characters shown as U+FFFD: no answer carries a NUL)
                errors = [
                    {k: v.replace("\x00", "\ufffd") if isinstance(v, str) else v for k, v in e.items()}
                    for e in flatten_messages(error.messages)
                ]
                items.append(base | {"outcome": "refused", "status": 422, "code": "invalid-input",
                                     "detail": "the record is not valid", "errors": errors})  # fmt: skip
                continue
            except DomainError as error:
                session.rollback()
                items.append(base | {"outcome": "refused", "status": error.status, "code": error.code,
                                     "detail": error.detail})  # fmt: skip
                continue
            items.append(base | {"outcome": outcome, "id": patrol.id, "status": 201 if outcome == CREATED else 200})
        return json_response({"items": items})


@patrols.route("/check-ins")
class Visits(MethodView):
    @patrols.access(*ALL_ROLES, note=f"The check-ins of the patrols the caller sees. {READ_NOTE}")
    @patrols.query(s.VisitListArgs)
    @patrols.response(200, s.VisitPageSchema)
    def get(self, **arguments: Any) -> Any:
        """List check-ins: an enterprise's visits

        The check-ins at enterprises of the patrols in the caller's scope, the latest first, paged by cursor, each
        with its patrol's kind and participants; by enterprise (`enterprise_id`: its visit history), participating
        officer, result and time.
        """
        paging, filters = split_paging(arguments)
        return json_response(list_answer(check_in_listing(caller=current_caller(), **filters), paging))


@patrols.route("/<int:patrol_id>")
class PatrolItem(MethodView):
    @patrols.access(*ALL_ROLES, note=READ_NOTE)
    @patrols.response(200, s.PatrolSchema)
    @patrols.problem(404, "no such patrol in your scope")
    def get(self, patrol_id: int) -> Any:
        """Get a patrol, with its check-ins"""
        return _answer(patrol_id, 200)


@patrols.route("/<int:patrol_id>/track")
class PatrolTrack(MethodView):
    @patrols.access(*ALL_ROLES, note=READ_NOTE)
    @patrols.response(200, {"type": "object", "description": "a GeoJSON Feature"}, content_type=GEOJSON)
    @patrols.problem(404, "no such patrol in your scope")
    def get(self, patrol_id: int) -> Any:
        """A patrol's track as GeoJSON

        A Feature: the fixes as a LineString (null with fewer than two), their times and accuracies as properties.
        """
        points = patrol_points(db.session(), caller=current_caller(), patrol_id=patrol_id)
        geometry = {"type": "LineString", "coordinates": [[p[1], p[2]] for p in points]} if len(points) >= 2 else None
        properties = {"times": [p[0] for p in points], "accuracy_m": [p[3] for p in points]}
        return json_response({"type": "Feature", "id": patrol_id, "geometry": geometry, "properties": properties},
                             mimetype=GEOJSON)  # fmt: skip


BLUEPRINTS = (patrols,)

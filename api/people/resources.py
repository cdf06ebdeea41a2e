"""Officers, grid assignments and cell teams: thin views over `models.people`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask.views import MethodView

from api.auth import current_caller
from api.conditional import expected_version, if_match
from api.db import db
from api.extensions import Blueprint
from api.pagination import list_answer, split_paging
from api.people import schemas as s
from api.responses import etag, json_response, record_response
from models.people import AssignmentRole
from models.people.officers import create_officer, deactivate_officer, update_officer
from models.people.queries import (
    assignment_listing,
    assignment_row,
    officer_cells,
    officer_listing,
    officer_row,
    team,
)
from models.people.service import assign, correct_assignment, end_assignment
from models.roles import ALL_ROLES, MANAGERS

READ_NOTE = "Each within their scope (a grid officer: themselves, and the teams of their own cells)."
WRITE_NOTE = "A township leader: officers, cells and assignments of their own township; anything else answers 404."

officers = Blueprint("officers", __name__, url_prefix="/api/v1/officers", description="Officers (网格长/网格员)")
assignments = Blueprint(
    "grid-assignments",
    __name__,
    url_prefix="/api/v1",
    description="Who is responsible for each grid cell, and who was, at any instant (属地管理)",
)


def in_utc(moment: datetime | None) -> datetime | None:
    """Every time the API answers is in UTC, whatever offset the caller asked in."""
    return moment.astimezone(UTC) if moment is not None else None


def officer_dict(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "active": row["deactivated_at"] is None}


_ASSIGNMENT_FIELDS = (
    "id", "cell_id", "cell_code", "cell_name", "village_id", "township_id", "role", "valid_from", "valid_to",
    "reason", "assigned_by_id", "created_at", "ended_at", "ended_by_id", "end_reason", "corrects_id",
    "correction_reason", "superseded_at", "superseded_by_id", "superseded_by_assignment_id", "version",
)  # fmt: skip


def assignment_dict(row: dict[str, Any]) -> dict[str, Any]:
    out = {key: row[key] for key in _ASSIGNMENT_FIELDS}
    out["officer"] = {
        "id": row["officer_id"],
        "name": row["officer_name"],
        "mobile": row["officer_mobile"],
        "title": row["officer_title"],
    }
    out["current"] = row["valid_to"] is None and row["superseded_at"] is None
    return out


def officer_response(officer_id: int, status: int = 200) -> Any:
    row = officer_row(db.session(), caller=current_caller(), officer_id=officer_id)
    return record_response(officer_dict(row), status, endpoint="officers.OfficerItem", officer_id=officer_id)


def assignment_response(assignment_id: int, status: int = 200, **extra: Any) -> Any:
    row = assignment_row(db.session(), caller=current_caller(), assignment_id=assignment_id)
    body = assignment_dict(row) | extra
    return record_response(body, status, endpoint="grid-assignments.AssignmentItem", assignment_id=assignment_id)


# ---- officers ---------------------------------------------------------------------------------------------------


@officers.route("")
class Officers(MethodView):
    @officers.access(*ALL_ROLES, note=READ_NOTE)
    @officers.query(s.OfficerListArgs)
    @officers.response(200, s.OfficerPageSchema)
    def get(self, **arguments: Any) -> Any:
        """List officers

        Active officers by name (then id), paged by cursor; `include_inactive=true` adds those who have left.
        """
        paging, filters = split_paging(arguments)
        return json_response(list_answer(officer_listing(caller=current_caller(), **filters), paging, officer_dict))

    @officers.access(*MANAGERS, note=WRITE_NOTE)
    @officers.idempotent()
    @officers.arguments(s.OfficerCreateSchema)
    @officers.response(201, s.OfficerSchema)
    @officers.problem(409, "an active officer has this mobile number (`existing_id`)")
    def post(self, data: dict[str, Any]) -> Any:
        """Register an officer

        The mobile number identifies the person: an active officer with the same number answers 409 with
        `existing_id`, so a retried create never makes the same person twice.
        """
        officer = create_officer(db.session(), caller=current_caller(), **data)
        return officer_response(officer.id, 201)


@officers.route("/<int:officer_id>")
class OfficerItem(MethodView):
    @officers.access(*ALL_ROLES, note=READ_NOTE)
    @officers.response(200, s.OfficerSchema)
    @officers.problem(404, "no such officer in your scope")
    def get(self, officer_id: int) -> Any:
        """Get an officer"""
        return officer_response(officer_id)

    @officers.access(*MANAGERS, note=WRITE_NOTE)
    @officers.arguments(s.OfficerPatchSchema)
    @officers.response(200, s.OfficerSchema)
    @officers.if_match()
    @officers.problem(404, "no such officer in your scope")
    @officers.problem(409, "the officer is deactivated, the mobile number is taken, or they still have cells")
    def patch(self, data: dict[str, Any], officer_id: int) -> Any:
        """Change an officer's details

        Name, mobile, title; moving to another township is for county administrators, once the officer's
        current assignments have ended.
        """
        update_officer(
            db.session(), caller=current_caller(), officer_id=officer_id, expected_version=expected_version(), **data
        )
        return officer_response(officer_id)


@officers.route("/<int:officer_id>/deactivate")
class OfficerDeactivation(MethodView):
    @officers.access(*MANAGERS, note=WRITE_NOTE)
    @officers.idempotent()
    @officers.arguments(s.OfficerDeactivateSchema, required=False)
    @officers.response(200, s.OfficerSchema)
    @officers.if_match()
    @officers.problem(404, "no such officer in your scope")
    def post(self, data: dict[str, Any], officer_id: int) -> Any:
        """Deactivate an officer who has left

        Their current assignments end now (so their cells show up without an owner), their user accounts are
        deactivated and their tokens stop working. Nothing is deleted. Deactivating twice is harmless.
        """
        deactivate_officer(
            db.session(),
            caller=current_caller(),
            officer_id=officer_id,
            expected_version=expected_version(),
            reason=data.get("reason"),
        )
        return officer_response(officer_id)


@officers.route("/<int:officer_id>/cells")
class OfficerCells(MethodView):
    @officers.access(*ALL_ROLES, note=READ_NOTE)
    @officers.query(s.AtArgs)
    @officers.response(200, s.OfficerCellsSchema)
    @officers.problem(404, "no such officer in your scope")
    def get(self, officer_id: int, at: datetime | None = None) -> Any:
        """An officer's cells, now or at a past instant

        The officer's assignments in force at `at` (default now), by cell code, with the cell named.
        """
        rows = officer_cells(db.session(), caller=current_caller(), officer_id=officer_id, at=at)
        answer = {"officer_id": officer_id, "at": in_utc(at), "items": [assignment_dict(r) for r in rows]}
        return json_response(answer)


# ---- teams and assignments --------------------------------------------------------------------------------------


@assignments.route("/grid-cells/<int:cell_id>/team")
class CellTeam(MethodView):
    @assignments.access(*ALL_ROLES, note=READ_NOTE)
    @assignments.query(s.AtArgs)
    @assignments.response(200, s.TeamSchema)
    @assignments.problem(404, "no such cell in your scope")
    def get(self, cell_id: int, at: datetime | None = None) -> Any:
        """Who is in charge of a cell, now or at an instant

        The owner (网格长) and members (网格员) in force at `at` (default now). The answer for now carries the
        team's ETag: send it as If-Match when you change the team.
        """
        answer = team(db.session(), caller=current_caller(), cell_id=cell_id, at=at)
        items = [assignment_dict(a) for a in answer.assignments]
        owner = next((a for a in items if a["role"] == AssignmentRole.OWNER.value), None)
        body = {
            "cell": answer.cell,
            "at": in_utc(at),
            "owner": owner,
            "members": [a for a in items if a is not owner],
            "etag": answer.etag if at is None else None,
        }
        headers = {"ETag": etag(answer.etag)} if at is None else {}
        return json_response(body, headers=headers)


@assignments.route("/grid-cells/<int:cell_id>/assignments")
class CellAssignments(MethodView):
    @assignments.access(*MANAGERS, note=WRITE_NOTE)
    @assignments.idempotent()
    @assignments.arguments(s.AssignmentCreateSchema)
    @assignments.response(201, s.AssignmentCreatedSchema)
    @assignments.if_match(
        "the team's ETag from GET /grid-cells/{cell_id}/team, or * for any team",
        stale="the team changed since you read it",
    )
    @assignments.problem(404, "no such cell in your scope")
    @assignments.problem(409, "already assigned, overlaps the history, or the cell is retired")
    def post(self, data: dict[str, Any], cell_id: int) -> Any:
        """Assign an officer to a cell

        As `owner` (网格长: one per cell; the previous owner's assignment ends at the same instant) or `member`
        (网格员: any number). `valid_from` defaults to now and may lie in the past, but not before the start of
        the assignment it ends. Needs If-Match with the team's ETag, so that two leaders editing the same team
        cannot overwrite each other; the database itself never holds two current owners of a cell.
        """
        assignment, ended = assign(
            db.session(), caller=current_caller(), cell_id=cell_id, expected_team=if_match(), **data
        )
        return assignment_response(assignment.id, 201, ended_assignment_ids=ended)


@assignments.route("/grid-assignments")
class Assignments(MethodView):
    @assignments.access(*ALL_ROLES, note=READ_NOTE)
    @assignments.query(s.AssignmentListArgs)
    @assignments.response(200, s.AssignmentPageSchema)
    def get(self, **arguments: Any) -> Any:
        """The assignment history

        Every assignment, oldest start first, paged by cursor, filtered by cell, officer, township, role, `at` an
        instant or `current`. Superseded entries (replaced by a correction) are left out unless
        `include_superseded=true`.
        """
        paging, filters = split_paging(arguments)
        listing = assignment_listing(caller=current_caller(), **filters)
        return json_response(list_answer(listing, paging, assignment_dict))


@assignments.route("/grid-assignments/<int:assignment_id>")
class AssignmentItem(MethodView):
    @assignments.access(*ALL_ROLES, note=READ_NOTE)
    @assignments.response(200, s.AssignmentSchema)
    @assignments.problem(404, "no such assignment in your scope")
    def get(self, assignment_id: int) -> Any:
        """Get an assignment"""
        return assignment_response(assignment_id)


@assignments.route("/grid-assignments/<int:assignment_id>/end")
class AssignmentEnd(MethodView):
    @assignments.access(*MANAGERS, note=WRITE_NOTE)
    @assignments.idempotent()
    @assignments.arguments(s.AssignmentEndSchema)
    @assignments.response(200, s.AssignmentSchema)
    @assignments.if_match()
    @assignments.problem(404, "no such assignment in your scope")
    @assignments.problem(409, "already ended, or superseded")
    def post(self, data: dict[str, Any], assignment_id: int) -> Any:
        """End an assignment

        At `valid_to` (default now, or a past instant after its start). Ending the owner's assignment leaves the
        cell without an owner until a new one is assigned.
        """
        end_assignment(
            db.session(),
            caller=current_caller(),
            assignment_id=assignment_id,
            expected_version=expected_version(),
            **data,
        )
        return assignment_response(assignment_id)


@assignments.route("/grid-assignments/<int:assignment_id>/correct")
class AssignmentCorrection(MethodView):
    @assignments.access(*MANAGERS, note=WRITE_NOTE)
    @assignments.idempotent()
    @assignments.arguments(s.AssignmentCorrectSchema)
    @assignments.response(201, s.AssignmentSchema)
    @assignments.if_match()
    @assignments.problem(404, "no such assignment in your scope")
    @assignments.problem(409, "superseded already, or the corrected interval overlaps the history")
    def post(self, data: dict[str, Any], assignment_id: int) -> Any:
        """Correct a wrong entry

        A new assignment with the corrected officer, role or interval supersedes this one, which is kept as it
        was with `superseded_at` set. Answers the correction.
        """
        reason = data.pop("reason")
        correction = correct_assignment(
            db.session(),
            caller=current_caller(),
            assignment_id=assignment_id,
            expected_version=expected_version(),
            reason=reason,
            changes=data,
        )
        return assignment_response(correction.id, 201)


BLUEPRINTS = (officers, assignments)

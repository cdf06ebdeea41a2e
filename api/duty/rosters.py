"""Duty rosters over HTTP: thin views over `models.duty.rosters` and `models.duty.roster_reads`."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.auth import current_caller
from api.conditional import expected_version
from api.db import db
from api.duty import roster_schemas as s
from api.duty.resources import duty
from api.pagination import list_answer, split_paging
from api.responses import json_response, record_response
from models.duty.roster_checks import check_period, check_roster
from models.duty.roster_reads import revisions, roster_item, roster_listing, roster_row
from models.duty.rosters import create_roster, decide_roster, submit_roster, update_roster
from models.roles import ALL_ROLES, Role

READ_NOTE = (
    "The rosters of the caller's scope: the county office's every one, a township's leaders and viewers their "
    "township's, a grid officer those of their cells' townships, department staff their department's."
)
WRITE_NOTE = "A township's leaders write its roster, a department's staff the department's, the county office any."
DECIDE_NOTE = "County administrators (the county safety office) approve and return rosters."
WRITERS = (Role.COUNTY_ADMIN, Role.TOWNSHIP_LEADER, Role.DEPARTMENT_STAFF)


def _roster_response(roster_id: int, status: int = 200) -> Any:
    row = roster_row(db.session(), caller=current_caller(), roster_id=roster_id)
    return record_response(row, status, endpoint="duty.DutyRosterItem", roster_id=roster_id)


@duty.route("/rosters")
class DutyRosters(MethodView):
    @duty.access(*ALL_ROLES, note=READ_NOTE)
    @duty.query(s.RosterListArgs)
    @duty.response(200, s.RosterPageSchema)
    def get(self, **arguments: Any) -> Any:
        """List duty rosters

        The newest first, without their shifts (`shift_count`); by period, status and unit.
        """
        paging, filters = split_paging(arguments)
        if filters.get("status") is not None:
            filters["status"] = filters["status"].value
        listing = roster_listing(caller=current_caller(), **filters)
        return json_response(list_answer(listing, paging, roster_item))

    @duty.access(*WRITERS, note=WRITE_NOTE)
    @duty.idempotent()
    @duty.arguments(s.RosterInSchema)
    @duty.response(201, s.RosterSchema)
    @duty.problem(409, "the unit has a roster for the period already (`existing_id`), or the period is cancelled")
    def post(self, data: dict[str, Any]) -> Any:
        """Write a unit's roster for a period

        A draft, changed freely until submitted. Each shift: its start and end (inside the period, at most 25
        hours), its leader on duty, its duty officers, the duty line. People are officers or accounts of the
        unit, active; each on a shift once.
        """
        roster = create_roster(db.session(), caller=current_caller(), **data)
        return _roster_response(roster.id, 201)


@duty.route("/rosters/<int:roster_id>")
class DutyRosterItem(MethodView):
    @duty.access(*ALL_ROLES, note=READ_NOTE)
    @duty.response(200, s.RosterSchema)
    @duty.problem(404, "no such roster in the caller's scope")
    def get(self, roster_id: int) -> Any:
        """Get a duty roster, with its shifts"""
        return _roster_response(roster_id)

    @duty.access(*WRITERS, note=WRITE_NOTE)
    @duty.arguments(s.RosterPatchSchema)
    @duty.response(200, s.RosterSchema)
    @duty.if_match()
    @duty.problem(404, "no such roster in the caller's scope")
    @duty.problem(409, "the period is cancelled")
    def patch(self, data: dict[str, Any], roster_id: int) -> Any:
        """Change a duty roster

        Its shifts (the whole list) or its notes. A draft is rewritten; a roster submitted before gets a new
        revision, submitted at once (late if after the deadline), for the county office to decide on again.
        """
        update_roster(db.session(), caller=current_caller(), roster_id=roster_id,
                      expected_version=expected_version(), **data)  # fmt: skip
        return _roster_response(roster_id)


@duty.route("/rosters/<int:roster_id>/submit")
class DutyRosterSubmission(MethodView):
    @duty.access(*WRITERS, note=WRITE_NOTE)
    @duty.idempotent()
    @duty.response(200, s.RosterSchema)
    @duty.if_match()
    @duty.problem(404, "no such roster in the caller's scope")
    @duty.problem(409, "submitted already (a change is a new revision), or the period is cancelled")
    def post(self, roster_id: int) -> Any:
        """Submit a duty roster

        A draft, or a returned roster as it is: a new revision, late when after the period's deadline.
        """
        submit_roster(db.session(), caller=current_caller(), roster_id=roster_id, expected_version=expected_version())
        return _roster_response(roster_id)


@duty.route("/rosters/<int:roster_id>/approve")
class DutyRosterApproval(MethodView):
    @duty.access(Role.COUNTY_ADMIN, note=DECIDE_NOTE)
    @duty.idempotent()
    @duty.response(200, s.RosterSchema)
    @duty.if_match()
    @duty.problem(404, "no such roster")
    @duty.problem(409, "the roster is not submitted, or the period is cancelled")
    def post(self, roster_id: int) -> Any:
        """Approve a submitted duty roster (its latest revision)"""
        decide_roster(db.session(), caller=current_caller(), roster_id=roster_id,
                      expected_version=expected_version(), approve=True)  # fmt: skip
        return _roster_response(roster_id)


@duty.route("/rosters/<int:roster_id>/return")
class DutyRosterReturn(MethodView):
    @duty.access(Role.COUNTY_ADMIN, note=DECIDE_NOTE)
    @duty.idempotent()
    @duty.arguments(s.RosterReturnSchema)
    @duty.response(200, s.RosterSchema)
    @duty.if_match()
    @duty.problem(404, "no such roster")
    @duty.problem(409, "the roster is not submitted, or the period is cancelled")
    def post(self, data: dict[str, Any], roster_id: int) -> Any:
        """Return a submitted duty roster, with the reason

        The unit changes it (a new revision) or submits it again as it is.
        """
        decide_roster(db.session(), caller=current_caller(), roster_id=roster_id,
                      expected_version=expected_version(), approve=False, reason=data["reason"])  # fmt: skip
        return _roster_response(roster_id)


@duty.route("/rosters/<int:roster_id>/revisions")
class DutyRosterRevisions(MethodView):
    @duty.access(*ALL_ROLES, note=READ_NOTE)
    @duty.response(200, s.RevisionsSchema)
    @duty.problem(404, "no such roster in the caller's scope")
    def get(self, roster_id: int) -> Any:
        """Every revision of a duty roster

        The latest first, each whole as submitted, with the county office's decision on it.
        """
        return json_response({"items": revisions(db.session(), caller=current_caller(), roster_id=roster_id)})


CHECK_NOTE = "Every role, for the units of its scope (the rosters it reads)."


@duty.route("/rosters/<int:roster_id>/check")
class DutyRosterCheck(MethodView):
    @duty.access(*ALL_ROLES, note=CHECK_NOTE)
    @duty.query(s.CheckArgs)
    @duty.response(200, s.RosterCheckSchema)
    @duty.problem(404, "no such roster in the caller's scope")
    def get(self, roster_id: int, **arguments: Any) -> Any:
        """Check a duty roster

        Its gaps (an instant of the period without a leader on duty, where required, or without a duty officer),
        its people on two shifts at once (with any roster of a period not cancelled), too little rest between a
        person's stretches of duty, a stretch too long, people deactivated since or without a phone.
        """
        return json_response(check_roster(db.session(), caller=current_caller(), roster_id=roster_id, **arguments))


@duty.route("/periods/<int:period_id>/check")
class DutyPeriodCheck(MethodView):
    @duty.access(*ALL_ROLES, note=CHECK_NOTE)
    @duty.query(s.CheckArgs)
    @duty.response(200, s.PeriodCheckSchema)
    @duty.problem(404, "no such duty period")
    def get(self, period_id: int, **arguments: Any) -> Any:
        """Check a whole duty period

        Every unit it names (of the caller's scope), with its roster's status and a summary of its problems; every
        problem; the units that have not submitted (overdue once the deadline passed), and the reminder list (not
        submitted, the deadline within 24 hours).
        """
        return json_response(check_period(db.session(), caller=current_caller(), period_id=period_id, **arguments))

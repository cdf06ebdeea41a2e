"""Duty periods over HTTP: thin views over `models.duty.periods`."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.auth import current_caller
from api.conditional import expected_version
from api.db import db
from api.duty import schemas as s
from api.duty.resources import duty
from api.pagination import list_answer, split_paging
from api.responses import json_response, record_response
from models.duty.periods import (
    cancel_period,
    create_period,
    period_listing,
    period_row,
    propose_period,
    update_period,
)
from models.roles import ALL_ROLES, Role

READ_NOTE = "Every role reads the duty periods."
WRITE_NOTE = "County administrators (the county safety office) announce them."


def _period_response(period_id: int, status: int = 200) -> Any:
    row = period_row(db.session(), caller=current_caller(), period_id=period_id)
    return record_response(row, status, endpoint="duty.DutyPeriodItem", period_id=period_id)


@duty.route("/periods")
class DutyPeriods(MethodView):
    @duty.access(*ALL_ROLES, note=READ_NOTE)
    @duty.query(s.DutyPeriodListArgs)
    @duty.response(200, s.DutyPeriodPageSchema)
    def get(self, **arguments: Any) -> Any:
        """List duty periods

        The latest starting first, paged by cursor; cancelled ones with `include_cancelled=true`; by `year`.
        """
        paging, filters = split_paging(arguments)
        session, caller = db.session(), current_caller()
        listing = period_listing(caller=caller, **filters)
        return json_response(list_answer(listing, paging, lambda row: period_row(session, caller=caller,
                                                                                 period_id=row["id"])))  # fmt: skip

    @duty.access(Role.COUNTY_ADMIN, note=WRITE_NOTE)
    @duty.idempotent()
    @duty.arguments(s.DutyPeriodInSchema)
    @duty.response(201, s.DutyPeriodSchema)
    @duty.problem(409, "a period not cancelled has that name")
    def post(self, data: dict[str, Any]) -> Any:
        """Announce a duty period

        Its name, start and end, the roster deadline, the shift pattern (24 h from `shift_start`, split into day
        and overnight duty at `split_at` if given), whether every shift needs a leader on duty, and the units that
        submit a roster (default: every active township and department). At most 60 days.
        """
        period = create_period(db.session(), caller=current_caller(), **data)
        return _period_response(period.id, 201)


@duty.route("/periods/proposal")
class DutyPeriodProposal(MethodView):
    @duty.access(Role.COUNTY_ADMIN, note=WRITE_NOTE)
    @duty.query(s.ProposalArgs)
    @duty.response(200, s.DutyPeriodProposalSchema)
    @duty.problem(404, "the year is not in the calendar, or has no such holiday")
    def get(self, **arguments: Any) -> Any:
        """Propose a period from a holiday

        Not stored: a body to POST to /duty/periods (edited or not). From `shift_start` on the day `margin_days`
        before the holiday's first day off to `shift_start` on the day `margin_days` after its last, rosters due 7
        days before the start at 17:30, every active township and department.
        """
        arguments["holiday"] = str(arguments["holiday"])
        return json_response(propose_period(db.session(), caller=current_caller(), **arguments))


@duty.route("/periods/<int:period_id>")
class DutyPeriodItem(MethodView):
    @duty.access(*ALL_ROLES, note=READ_NOTE)
    @duty.response(200, s.DutyPeriodSchema)
    @duty.problem(404, "no such duty period")
    def get(self, period_id: int) -> Any:
        """Get a duty period, with its units"""
        return _period_response(period_id)

    @duty.access(Role.COUNTY_ADMIN, note=WRITE_NOTE)
    @duty.arguments(s.DutyPeriodPatchSchema)
    @duty.response(200, s.DutyPeriodSchema)
    @duty.if_match()
    @duty.problem(404, "no such duty period")
    @duty.problem(
        409,
        "the period is cancelled, a period not cancelled has the new name, or a roster would be left "
        "outside it (its unit dropped, its shifts outside the new times)",
    )
    def patch(self, data: dict[str, Any], period_id: int) -> Any:
        """Change a duty period

        Any of its fields; the units as whole lists.
        """
        update_period(db.session(), caller=current_caller(), period_id=period_id,
                      expected_version=expected_version(), **data)  # fmt: skip
        return _period_response(period_id)


@duty.route("/periods/<int:period_id>/cancel")
class DutyPeriodCancellation(MethodView):
    @duty.access(Role.COUNTY_ADMIN, note=WRITE_NOTE)
    @duty.idempotent()
    @duty.arguments(s.DutyPeriodCancelSchema)
    @duty.response(200, s.DutyPeriodSchema)
    @duty.if_match()
    @duty.problem(404, "no such duty period")
    @duty.problem(409, "the period is cancelled already")
    def post(self, data: dict[str, Any], period_id: int) -> Any:
        """Cancel a duty period

        It stays, with the reason; its rosters are no longer due.
        """
        cancel_period(db.session(), caller=current_caller(), period_id=period_id,
                      expected_version=expected_version(), reason=data["reason"])  # fmt: skip
        return _period_response(period_id)

"""Duty as files over HTTP: iCalendar per roster and per person, the .xlsx sheet per period. Thin views over
`models.duty.ical` and `models.duty.sheet`."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView

from api.auth import current_caller
from api.db import db
from api.duty import schemas as s
from api.duty.resources import duty
from api.duty.rosters import READ_NOTE
from api.responses import BINARY, XLSX
from models.duty.ical import person_calendar, roster_calendar
from models.duty.sheet import period_sheet
from models.roles import ALL_ROLES

ICALENDAR = "text/calendar"


def _file(body: bytes, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                                      "Cache-Control": "private, no-cache"})  # fmt: skip


@duty.route("/rosters/<int:roster_id>/shifts.ics")
class DutyRosterCalendar(MethodView):
    @duty.access(*ALL_ROLES, note=READ_NOTE)
    @duty.response(200, BINARY, content_type=ICALENDAR, description="the roster's shifts as iCalendar (RFC 5545)")
    @duty.problem(404, "no such roster in the caller's scope")
    def get(self, roster_id: int) -> Any:
        """A roster's shifts as iCalendar

        One event per shift (leader on duty, duty officers and phones, duty line in its description), for a phone's
        calendar. Each shift keeps its UID across revisions (the roster, the shift's start and end): importing the
        file again updates a changed shift (its SEQUENCE is the roster's revision) and removes one the roster no longer
        holds (kept in the file as STATUS:CANCELLED); a cancelled period cancels every event. A draft answers
        TENTATIVE events.
        """
        body, filename = roster_calendar(db.session(), caller=current_caller(), roster_id=roster_id)
        return _file(body, f"{ICALENDAR}; charset=utf-8", filename)


@duty.route("/shifts.ics")
class PersonCalendar(MethodView):
    @duty.access(
        *ALL_ROLES,
        note="Everyone reads their own shifts; another person's, in the rosters of the caller's scope. " + READ_NOTE,
    )
    @duty.query(s.PersonCalendarArgs)
    @duty.response(200, BINARY, content_type=ICALENDAR, description="the person's shifts as iCalendar (RFC 5545)")
    def get(self, officer_id: int | None = None, user_id: int | None = None) -> Any:
        """A person's shifts as iCalendar

        The caller's own duty (or an officer's or account's) across the rosters submitted at least once, of the
        periods that end later or ended less than 60 days ago: one event per shift, its role (带班领导 or 值班员)
        in the title. UIDs are stable per roster, start and person: a changed shift updates (its end too), a shift
        the person no longer holds is answered cancelled. A person on no shift answers an empty calendar.
        """
        body, filename = person_calendar(db.session(), caller=current_caller(), officer_id=officer_id,
                                         user_id=user_id)  # fmt: skip
        return _file(body, f"{ICALENDAR}; charset=utf-8", filename)


@duty.route("/periods/<int:period_id>/sheet.xlsx")
class DutyPeriodSheet(MethodView):
    @duty.access(*ALL_ROLES, note="The units of the caller's scope (as the period check). " + READ_NOTE)
    @duty.response(200, BINARY, content_type=XLSX, description="the period's roster sheet as .xlsx")
    @duty.problem(404, "no such period")
    def get(self, period_id: int) -> Any:
        """A period's roster sheet (值班安排表) as .xlsx

        As offices circulate it: the period and the county office's duty desk on top, then one block per unit,
        townships first (its submission, then a row per shift: date, hours, leader on duty and phone, duty
        officers and phones, duty line, notes), each unit's roster as last submitted; a second sheet 报送情况 lists
        every unit's submission. Times in the county's zone; the units of the caller's scope.
        """
        body, filename = period_sheet(db.session(), caller=current_caller(), period_id=period_id)
        return _file(body, XLSX, filename)

"""The official holiday calendar over HTTP: thin views over `models.duty.calendar`."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.auth import current_caller
from api.conditional import expected_version
from api.db import db
from api.duty import schemas as s
from api.extensions import Blueprint
from api.responses import json_response, record_response
from models.duty.calendar import calendar_year, calendar_years, enter_year
from models.roles import ALL_ROLES, Role

duty = Blueprint(
    "duty", __name__, url_prefix="/api/v1/duty", description="24-hour holiday duty (24小时值班): the holiday calendar"
)


def _year_response(year: int, status: int = 200) -> Any:
    body = calendar_year(db.session(), caller=current_caller(), year=year)
    return record_response(body, status, endpoint="duty.CalendarYear", year=year)


@duty.route("/calendar")
class CalendarYears(MethodView):
    @duty.access(*ALL_ROLES, note="Every role reads the calendar.")
    @duty.response(200, s.CalendarYearsSchema)
    def get(self) -> Any:
        """List the calendar's years

        Every year known, the newest first, with its source: the `chinese-calendar` package, or `entered` from the
        State Council's notice.
        """
        return json_response({"items": calendar_years(db.session(), caller=current_caller())})


@duty.route("/calendar/<int:year>")
class CalendarYear(MethodView):
    @duty.access(*ALL_ROLES, note="Every role reads the calendar.")
    @duty.response(200, s.CalendarYearSchema)
    @duty.problem(404, "the year is neither in the package nor entered (`calendar-year-unknown`)")
    def get(self, year: int) -> Any:
        """A year of the holiday calendar

        Its holidays in date order, each with its days off and the weekend days worked in exchange (调休), and where
        the year came from.
        """
        return _year_response(year)

    @duty.access(Role.COUNTY_ADMIN, note="County administrators enter the calendar.")
    @duty.idempotent()
    @duty.arguments(s.CalendarYearInSchema)
    @duty.response(200, s.CalendarYearSchema)
    @duty.if_match(description="the ETag of the year entered, from a GET; * to enter a new year (or any version)")
    @duty.problem(409, "the chinese-calendar package holds the year: `replace_package` (`calendar-year-in-package`)")
    def put(self, data: dict[str, Any], year: int) -> Any:
        """Enter a year of the holiday calendar

        From the State Council's notice (国务院办公厅关于…部分节假日安排的通知), typed in once: each holiday with
        its days off (`from`, `to`) and its working days. For a year the package lacks; a year it holds is replaced
        only with `replace_package: true` (409 `calendar-year-in-package` otherwise). Sending it again replaces the
        year's entry (If-Match its ETag).
        """
        enter_year(db.session(), caller=current_caller(), year=year, expected_version=expected_version(),
                   notice=data["notice"], holidays=[{**h, "from": h.pop("from_")} for h in data["holidays"]],
                   replace_package=data["replace_package"])  # fmt: skip
        return _year_response(year)


BLUEPRINTS = (duty,)

"""The hazard ledger: thin views over `models.hazards` (report, the signed steps, the ledger's lists)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Response
from flask.views import MethodView

from api.auth import current_caller
from api.conditional import expected_version
from api.db import db
from api.extensions import Blueprint
from api.hazards import schemas as s
from api.pagination import list_answer, split_paging
from api.responses import BINARY, CSV, GEOJSON, XLSX, json_or_features, json_response, record_response
from api.territory.schemas import FeatureCollectionSchema
from models.base import county_today, county_zone
from models.hazards.counts import hazard_counts
from models.hazards.ledger import ledger_csv, ledger_rows, ledger_xlsx
from models.hazards.model import FIVE_IMPLEMENTATIONS, Action
from models.hazards.queries import hazard_listing, hazard_row, hazard_steps, is_overdue
from models.hazards.report import correct_hazard, report_hazard
from models.hazards.rules import ACTION_ROLES, missing_implementations, next_actions
from models.hazards.service import plan_hazard, take_step
from models.roles import ALL_ROLES, SYSTEM

READ_NOTE = (
    "Each within their scope: the whole county; a township, its own hazards; a grid officer, those in their cells; "
    "department staff, those of the enterprises their department supervises and those it was named for. Anything "
    "else answers 404."
)

hazards = Blueprint(
    "hazards",
    __name__,
    url_prefix="/api/v1/hazards",
    description="The hazard ledger (隐患台账): report, rectify, accept, close out (销号), each step signed",
)


def hazard_dict(row: dict[str, Any], today: Any = None) -> dict[str, Any]:
    """The answer for a row of HAZARD_SELECT (a dict of its own, changed in place)."""
    row["location"] = {"type": "Point", "coordinates": [row.pop("lon"), row.pop("lat")]}
    plan = dict(row["five_implementations"] or {})
    missing = missing_implementations(plan)
    row["five_implementations"] = {
        **{key: plan.get(key) for key in FIVE_IMPLEMENTATIONS},
        "complete": not missing,
        "missing": missing,
    }
    row["overdue"] = is_overdue(row, today)
    row["next_actions"] = next_actions(row)
    for key in ("year", "seq"):
        row.pop(key, None)
    return row


def hazard_response(hazard_id: int, status: int = 200, *, as_written: bool = False) -> Any:
    """The hazard as the caller sees it; `as_written`: as the caller's own step left it, even when that step took
    it out of their scope (a department sending a referral back), rather than a 404 after a write that succeeded."""
    row = hazard_row(db.session(), caller=SYSTEM if as_written else current_caller(), hazard_id=hazard_id)
    return record_response(hazard_dict(row), status, endpoint="hazards.HazardItem", hazard_id=hazard_id)


def _who(action: Action) -> tuple[Any, ...]:
    return tuple(sorted(ACTION_ROLES[action]))


@hazards.route("")
class Hazards(MethodView):
    @hazards.access(*ALL_ROLES, note=READ_NOTE)
    @hazards.query(s.HazardListArgs)
    @hazards.response(200, s.HazardPageSchema)
    @hazards.alt_response(200, schema=FeatureCollectionSchema, content_type=GEOJSON, success=True)
    def get(self, format: str | None = None, **arguments: Any) -> Any:  # noqa: A002
        """List hazards

        Hazards in the caller's scope, newest found first, paged by cursor, filtered by state, severity, source,
        kind, sector, enterprise, place, department, overdue and the time found. A GeoJSON FeatureCollection with
        `format=geojson` or `Accept: application/geo+json`.
        """
        paging, filters = split_paging(arguments)
        today = county_today()
        body = list_answer(
            hazard_listing(caller=current_caller(), **filters), paging, lambda row: hazard_dict(row, today)
        )
        return json_or_features(body, format, "location")

    @hazards.access(
        *_who(Action.REPORT),
        note="A grid officer: in their own cells; a leader: in their township; "
        "department staff: at the enterprises, or in the sectors, their department supervises.",
    )
    @hazards.idempotent()
    @hazards.arguments(s.HazardReportSchema)
    @hazards.response(201, s.HazardSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Report a hazard

        Signed by the caller as its finder. Where: an enterprise (`enterprise_id`), a `position` (by default the
        enterprise's location), or both; away from any enterprise, a `place_description`, a `position` and a
        `sector`. Its place (cell, village, township) is derived from the position, and its number is the next of
        its township's ledger for the year. It starts `reported`.
        """
        position = data.pop("position", None) or {}
        hazard = report_hazard(db.session(), caller=current_caller(), **position, **data)
        return hazard_response(hazard.id, 201)


@hazards.route("/ledger")
class HazardLedger(MethodView):
    @hazards.access(*ALL_ROLES, note=READ_NOTE)
    @hazards.query(s.LedgerArgs)
    @hazards.response(200, BINARY, content_type=XLSX, description="the ledger as .xlsx")
    @hazards.alt_response(200, schema=BINARY, content_type=CSV, success=True, description="as CSV")
    def get(self, format: str, **filters: Any) -> Any:  # noqa: A002
        """Download the ledger (隐患台账)

        Every hazard of the filters (those of the list) in the caller's scope, newest found first, one row each,
        with Chinese column headers, times in the county's zone, the five implementations, and every signed step in
        the last column ("签名记录", one line per step). The .xlsx holds the register of major hazards on a second
        sheet. At most 200,000 rows.
        """
        rows, major = ledger_rows(db.session(), caller=current_caller(), **filters)
        body, mimetype = (
            (ledger_xlsx(rows, major), XLSX) if format == "xlsx" else (ledger_csv(rows), f"{CSV}; charset=utf-8")
        )
        disposition = f'attachment; filename="hazard-ledger-{county_today().isoformat()}.{format}"'
        return Response(body, mimetype=mimetype, headers={"Content-Disposition": disposition})


@hazards.route("/counts")
class HazardCounts(MethodView):
    @hazards.access(*ALL_ROLES, note="Each within their scope (a township leader: their township's rows).")
    @hazards.query(s.CountsArgs)
    @hazards.response(200, s.CountsSchema)
    def get(self, group_by: str, from_: date, to: date) -> Any:
        """Counts for a period (the monthly report)

        Hazards found from the day `from` to the day `to` (both included, in the county) and what became of them by
        the period's end, per township, village, cell, department or sector, general and major apart, with the
        rectification and on-time rates. Voided hazards are left out. Cells add up to villages, villages to
        townships and townships to `total` (hazards in no cell are a row of their own, with a null id); by
        department, a hazard counts under each department that sees it.
        """
        zone = county_zone()
        start = datetime.combine(from_, time(0), zone)
        end_day = to + timedelta(days=1)
        end = datetime.combine(end_day, time(0), zone)
        counts = hazard_counts(
            db.session(), caller=current_caller(), group_by=group_by, start=start, end=end, end_day=end_day
        )
        return json_response({"group_by": group_by, "start": start.isoformat(), "end": end.isoformat(), **counts})


@hazards.route("/<int:hazard_id>")
class HazardItem(MethodView):
    @hazards.access(*ALL_ROLES, note=READ_NOTE)
    @hazards.response(200, s.HazardSchema)
    @hazards.problem(404, "no such hazard in your scope")
    def get(self, hazard_id: int) -> Any:
        """Get a hazard

        With `next_actions`, the steps its state allows now.
        """
        return hazard_response(hazard_id)

    @hazards.access(*_who(Action.PLAN), note="In their scope.")
    @hazards.arguments(s.HazardPatchSchema)
    @hazards.response(200, s.HazardSchema)
    @hazards.if_match()
    @hazards.problem(404, "no such hazard in your scope")
    @hazards.problem(409, "its rectification has started: it is no longer corrected")
    def patch(self, data: dict[str, Any], hazard_id: int) -> Any:
        """Correct a reported hazard

        What was reported (description, kind, severity, source, sector, place description, position) may be
        corrected while the hazard is still `reported` (409 `hazard-not-correctable` after): a general hazard that
        review finds major, a better position (its place is derived again; its number stays). Every change is in
        the audit trail (`entity_type=hazards`).
        """
        position = data.pop("position", None) or {}
        correct_hazard(db.session(), caller=current_caller(), hazard_id=hazard_id,
                       expected_version=expected_version(), **position, **data)  # fmt: skip
        return hazard_response(hazard_id)


@hazards.route("/<int:hazard_id>/steps")
class HazardSteps(MethodView):
    @hazards.access(*ALL_ROLES, note=READ_NOTE)
    @hazards.response(200, s.HazardStepsSchema)
    @hazards.problem(404, "no such hazard in your scope")
    def get(self, hazard_id: int) -> Any:
        """A hazard's signed steps

        Every step of its life, oldest first: who signed it, when, their comment and what it set.
        """
        return json_response({"items": hazard_steps(db.session(), caller=current_caller(), hazard_id=hazard_id)})


@hazards.route("/<int:hazard_id>/five-implementations")
class HazardPlan(MethodView):
    @hazards.access(*_who(Action.PLAN), note="In their scope.")
    @hazards.idempotent()
    @hazards.arguments(s.HazardPlanSchema)
    @hazards.response(200, s.HazardSchema)
    @hazards.if_match()
    @hazards.problem(404, "no such hazard in your scope")
    @hazards.problem(409, "the hazard's state does not allow it (`allowed` lists what it does)")
    def put(self, data: dict[str, Any], hazard_id: int) -> Any:
        """Set the five implementations (五落实)

        The whole plan at once (a part left out is cleared), while the hazard is reported or rectifying; each
        setting is a signed step. A major hazard starts rectification only with all six fields given.
        """
        comment = data.pop("comment", None)
        if data.get("funds_yuan") is not None:
            data["funds_yuan"] = round(data["funds_yuan"], 2)
        plan_hazard(
            db.session(),
            caller=current_caller(),
            hazard_id=hazard_id,
            expected_version=expected_version(),
            plan=data,
            comment=comment,
        )
        return hazard_response(hazard_id)


def step_view(
    action: Action, schema: type, path: str, summary: str, doc: str, note: str, run: Callable[..., Any] | None = None
) -> None:
    """A route that takes one step of a hazard (POST, If-Match, Idempotency-Key): `run(session, caller=,
    hazard_id=, expected_version=, **body)`, by default the step between states (`take_step`)."""

    def post(self: Any, data: dict[str, Any], hazard_id: int) -> Any:
        session, caller, version = db.session(), current_caller(), expected_version()
        if run is None:
            take_step(session, caller=caller, hazard_id=hazard_id, action=action, expected_version=version, **data)
        else:
            run(session, caller=caller, hazard_id=hazard_id, expected_version=version, **data)
        return hazard_response(hazard_id, as_written=action is Action.RETURN_REFERRAL)

    post.__doc__ = f"{summary}\n\n{doc}"
    view = hazards.access(*_who(action), note=note)(
        hazards.idempotent()(
            hazards.arguments(schema)(
                hazards.response(200, s.HazardSchema)(
                    hazards.if_match()(
                        hazards.problem(404, "no such hazard in your scope")(
                            hazards.problem(409, "the hazard's state does not allow it (`allowed` lists what it does)")(
                                post
                            )
                        )
                    )
                )
            )
        )
    )
    name = "Hazard" + "".join(part.title() for part in action.value.split("_"))
    hazards.route(f"/<int:hazard_id>/{path}")(type(name, (MethodView,), {"post": view}))


step_view(
    Action.START_RECTIFICATION,
    s.StartRectificationSchema,
    "rectification",
    "Start rectification (下达整改)",
    "reported → rectifying, with a deadline and the person responsible. A major hazard only with its five "
    "implementations complete (422 `five-implementations-incomplete`, with `missing`).",
    "In their scope.",
)
step_view(
    Action.RECTIFY_ON_THE_SPOT,
    s.RectifiedSchema,
    "on-the-spot-rectification",
    "Rectified on the spot (立即整改)",
    "reported → pending_acceptance, for a general hazard put right at once; signed by the caller as the rectifier.",
    "In their scope.",
)
step_view(
    Action.RECTIFIED,
    s.RectifiedSchema,
    "rectified",
    "Rectification done (整改完成)",
    "rectifying → pending_acceptance; signed by the caller as the rectifier, naming who did the work.",
    "In their scope.",
)
step_view(
    Action.ACCEPT,
    s.AcceptSchema,
    "acceptance",
    "Accept and close out (验收销号)",
    "pending_acceptance → closed. The acceptor is never the user who signed the rectification (403 "
    "`acceptor-is-rectifier`); a major hazard is accepted by the county or a supervising department only (403 "
    "`major-acceptor-required`).",
    "In their scope; a major hazard: the county administrator or department staff.",
)
step_view(
    Action.REJECT,
    s.RejectSchema,
    "rejection",
    "Refuse acceptance (复查)",
    "pending_acceptance → rectifying, with the reason and a re-check deadline; the same signers as acceptance.",
    "In their scope; a major hazard: the county administrator or department staff.",
)
step_view(
    Action.VOID,
    s.VoidSchema,
    "void",
    "Void a hazard (作废)",
    "Recorded in error: any open state → voided, with the reason. Never deleted.",
    "A township leader in their township; the county administrator.",
)

"""Importing the county's enterprise ledger (企业台账): the rows of a file (`models.enterprises.ledger`) upserted by
credit code among the live records, in one transaction.

Each row is created (a new credit code), updated (an existing record in the caller's scope whose file values differ),
unchanged (nothing differs), or refused with its reasons: a bad value, a credit code given by an earlier row of the
file, a live record of that code outside the caller's scope, a location outside a township leader's township.
Importing the same file again finds every row unchanged and writes nothing.

Modes: by default the good rows land and the refused ones are reported; `all_or_nothing` lands nothing when any row
is refused; `dry_run` writes nothing and reports the same. The work is done in bulk so that tens of thousands of rows
take seconds: one call derives every place, a query per 2,000 codes loads the existing records, the departments are
looked up once per sector, and the ORM writes every record in one flush (the audit trail and the name index follow
through their session hooks, as for a single write).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from geo.coords import CoordSystem, to_wgs84
from models import locks
from models.base import utcnow, write_transaction
from models.departments.queries import departments_of_sector, sectors
from models.enterprises.ledger import NONE, Ledger, LedgerRow
from models.enterprises.model import Enterprise, EnterpriseDepartment, KeyLevel, RiskLevel, Status
from models.enterprises.places import Place, places_of, set_place
from models.enterprises.service import _set_location
from models.roles import Caller
from models.scope import scope_clauses

OUTCOMES = ("created", "updated", "unchanged", "refused")
# What a row sets beside the credit code and the location (the columns of the ledger that are the record's fields).
FIELDS = (
    "name", "sector", "risk_level", "major_hazard_grade", "key_level", "scale", "status", "licence_number",
    "licence_expires_on", "legal_representative", "safety_manager", "duty_phone", "address", "liaison_leader",
)  # fmt: skip
DEFAULTS = {"risk_level": RiskLevel.BLUE.value, "key_level": KeyLevel.NONE.value, "status": Status.OPERATING.value}
CHUNK = 2000  # values per IN (...): SQLite and psycopg cap the parameters of one statement


@dataclass
class _Step:
    """What a row does: its outcome, and what it writes."""

    row: LedgerRow
    outcome: str = "refused"
    enterprise: Enterprise | None = None  # the existing record (an update), or the new one once written
    changes: dict[str, Any] = field(default_factory=dict)  # field -> value (for a new record, every field given)
    lon: float | None = None  # WGS-84
    lat: float | None = None
    place: Place | None = None  # when the record is new or moves
    departments: list[int] | None = None  # when new, or when they change with the sector


def import_enterprises(
    session: Session, *, caller: Caller, ledger: Ledger, dry_run: bool = False, all_or_nothing: bool = False
) -> dict[str, Any]:
    """Upsert the ledger's rows by credit code (see the module's notes); answer the report: the mode, whether the
    rows landed, the count of each outcome, and each row's outcome, record id, changed columns and errors."""
    if not dry_run:
        # The places lock alone, not one per credit code (thousands of advisory locks): every write of an enterprise
        # (register, change, close) takes the places lock, so while the import holds it no other write can take or
        # free a credit code, and the check of the codes below holds until the commit.
        write_transaction(session, locks.places())
    try:
        with session.no_autoflush:
            steps = _plan(session, caller, ledger)
        refused = any(step.outcome == "refused" for step in steps)
        landed = not dry_run and not (all_or_nothing and refused)
        if landed:
            _apply(session, steps)
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    return _report(steps, dry_run=dry_run, all_or_nothing=all_or_nothing, landed=landed)


# ---- planning: every check, no write ----------------------------------------------------------------------------


def _plan(session: Session, caller: Caller, ledger: Ledger) -> list[_Step]:
    steps = [_Step(row) for row in ledger.rows]
    _check_against_file_and_sectors(session, caller, ledger.rows)
    good = [step for step in steps if not step.row.errors]
    for step in good:
        values = step.row.values
        system = CoordSystem(values.get("coord_system", CoordSystem.WGS84.value))
        lon, lat = to_wgs84(values["lon"], values["lat"], system)
        step.lon, step.lat = round(lon, 7), round(lat, 7)  # as the API stores a position
    places = places_of(session, caller=caller, points=[(step.lon, step.lat) for step in good])
    existing, visible = _live_records(session, caller, [step.row.values["credit_code"] for step in good])
    departments = _Departments(session, caller)
    for step, place in zip(good, places, strict=True):
        record = existing.get(step.row.values["credit_code"])
        if record is None:
            _plan_create(step, place, caller, departments)
        elif record.id not in visible:
            step.row.refuse(
                "credit_code",
                "credit-code-taken",
                f"统一社会信用代码 (credit_code): a live enterprise outside your scope has the credit code "
                f"{record.credit_code}",
            )
        else:
            _plan_update(step, record, place, caller, departments)
    for step in steps:
        if step.row.errors:
            step.outcome, step.changes = "refused", {}
    return steps


def _check_against_file_and_sectors(session: Session, caller: Caller, rows: Sequence[LedgerRow]) -> None:
    """Refuse a credit code that an earlier row gave, and a sector the county does not have; name the sector by its
    code."""
    codes = {}
    for sector in sectors(session, caller=caller):
        for spelling in (sector["code"], sector["name"], sector["name_en"]):
            codes[spelling.lower()] = sector["code"]
    first_row: dict[str, int] = {}
    for row in rows:
        code = row.values.get("credit_code")
        if code is not None and code in first_row:
            row.refuse(
                "credit_code",
                "duplicate-in-file",
                f"统一社会信用代码 (credit_code): row {first_row[code]} of the file has the credit code {code} already",
            )
        elif code is not None:
            first_row[code] = row.number
        sector = row.values.get("sector")
        if sector is not None:
            if sector.lower() in codes:
                row.values["sector"] = codes[sector.lower()]
            else:
                row.refuse(
                    "sector",
                    "sector-unknown",
                    f"行业领域 (sector): no such sector: {sector} (a code or a Chinese name of GET /api/v1/sectors)",
                )


def _live_records(session: Session, caller: Caller, codes: list[str]) -> tuple[dict[str, Enterprise], set[int]]:
    """The live records of these credit codes by code, and the ids of those in the caller's scope."""
    found: dict[str, Enterprise] = {}
    visible: set[int] = set()
    for start in range(0, len(codes), CHUNK):
        chunk = codes[start : start + CHUNK]
        live = (Enterprise.credit_code.in_(chunk), Enterprise.closed_at.is_(None))
        found.update((e.credit_code, e) for e in session.scalars(select(Enterprise).where(*live)))
        visible.update(session.scalars(select(Enterprise.id).where(*live, *scope_clauses(caller, Enterprise))))
    return found, visible


class _Departments:
    """The departments of each sector, looked up once per sector (as `create_enterprise` derives them)."""

    def __init__(self, session: Session, caller: Caller) -> None:
        self.session, self.caller, self.known = session, caller, {}

    def __call__(self, sector: str) -> list[int]:
        if sector not in self.known:
            self.known[sector] = departments_of_sector(self.session, caller=self.caller, sector=sector)
        return self.known[sector]


def _refuse_outside_township(step: _Step, place: Place, caller: Caller) -> bool:
    """A township leader places enterprises in their own township (the API's rule): refuse the row otherwise."""
    if caller.county_wide or place.township_id == caller.township_id:
        return False
    step.row.refuse(
        None,
        "location-outside-township",
        "经度/纬度 (lon/lat): the location lies outside your township: a township leader places enterprises in "
        "their own township",
    )
    return True


def _given(values: dict[str, Any], key: str) -> Any:
    return None if values[key] is NONE else values[key]


def _plan_create(step: _Step, place: Place, caller: Caller, departments: _Departments) -> None:
    if _refuse_outside_township(step, place, caller):
        return
    values = step.row.values
    step.changes = {key: _given(values, key) for key in FIELDS if key in values}
    step.changes = DEFAULTS | step.changes
    step.place, step.departments, step.outcome = place, list(departments(values["sector"])), "created"


def _plan_update(step: _Step, record: Enterprise, place: Place, caller: Caller, departments: _Departments) -> None:
    values = step.row.values
    step.enterprise = record
    step.changes = {
        key: _given(values, key) for key in FIELDS if key in values and _given(values, key) != getattr(record, key)
    }
    if (step.lon, step.lat) != (record.lon, record.lat):
        if _refuse_outside_township(step, place, caller):
            return
        step.place = place
    if "sector" in step.changes and not record.departments_set:
        derived = departments(step.changes["sector"])
        step.departments = list(derived) if derived != record.department_ids else None
    step.outcome = "updated" if step.changes or step.place is not None else "unchanged"


# ---- writing ----------------------------------------------------------------------------------------------------


def _apply(session: Session, steps: list[_Step]) -> None:
    """Write the planned records in one flush (the session hooks write the audit trail and the name index), then
    their departments' rows."""
    now = utcnow()
    relinked: list[_Step] = []
    for step in steps:
        if step.outcome == "created":
            step.enterprise = Enterprise(
                credit_code=step.row.values["credit_code"],
                department_ids=step.departments,
                departments_set=False,
                created_at=now,
                updated_at=now,
                **step.changes,
            )
            session.add(step.enterprise)
        elif step.outcome != "updated":
            continue
        enterprise = step.enterprise
        assert enterprise is not None
        if step.outcome == "updated":
            for key, value in step.changes.items():
                setattr(enterprise, key, value)
            enterprise.updated_at = now
            if step.departments is not None:
                enterprise.department_ids = step.departments
        if step.place is not None:
            _set_location(enterprise, step.lon, step.lat)
            set_place(enterprise, step.place)
        if step.departments is not None:
            relinked.append(step)
    session.flush()
    links = EnterpriseDepartment.__table__
    changed_ids = [step.enterprise.id for step in relinked if step.outcome == "updated"]
    for start in range(0, len(changed_ids), CHUNK):
        session.execute(delete(links).where(links.c.enterprise_id.in_(changed_ids[start : start + CHUNK])))
    rows = [{"enterprise_id": s.enterprise.id, "department_id": d} for s in relinked for d in s.departments or ()]
    if rows:
        session.execute(insert(links), rows)


def _report(steps: list[_Step], *, dry_run: bool, all_or_nothing: bool, landed: bool) -> dict[str, Any]:
    summary = dict.fromkeys(OUTCOMES, 0)
    rows = []
    for step in steps:
        summary[step.outcome] += 1
        changed = []
        if step.outcome == "updated":
            changed = [key for key in FIELDS if key in step.changes] + (["lon", "lat"] if step.place else [])
        enterprise_id = step.enterprise.id if step.enterprise is not None else None
        rows.append(
            {
                "row": step.row.number,
                "credit_code": step.row.credit_code,
                "outcome": step.outcome,
                "enterprise_id": enterprise_id if (landed or step.outcome != "created") else None,
                "changed": changed,
                "errors": step.row.errors,
            }
        )
    return {
        "dry_run": dry_run,
        "all_or_nothing": all_or_nothing,
        "landed": landed,
        "summary": summary,
        "rows": rows,
    }

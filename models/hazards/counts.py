"""The figures of the county's monthly report: hazards found over a period and what became of them, per township,
village, cell, department or sector, general and major apart. Never commits.

Over a period [start, end) (instants; the API takes days in the county), counting the hazards found in it, voided ones
left out (recorded in error):

- found: found in the period;
- closed (rectified, 销号): of those, closed before the period's end;
- open: of those, not closed by the period's end;
- overdue: of the open ones, past their deadline at the period's end (the deadline as it stands now);
- closed_on_time: of the closed ones, closed by their deadline (the day, in the county; rectified on the spot counts
  as on time);
- rectification_rate = closed / found, on_time_rate = closed_on_time / closed (null when nothing to divide by);
- documents: the enforcement documents issued in the period (by the day issued), by kind: rectification orders,
  suspensions ordered, resumptions accepted, closures.

A hazard counts once in its cell, village and township, so cells add up to their village, villages to their township
and townships to the county: the rows of hazards with no cell (or no village, no township) are kept, with a null id,
under their parent. By department, a hazard counts under each department that sees it (those do not add up to the
county's total, when a sector has several departments).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, and_, case, func, select
from sqlalchemy.orm import Session

from models.base import county_zone
from models.enterprises.model import Enterprise
from models.hazards.model import DocumentKind, EnforcementDocument, Hazard, HazardDepartment, Severity, Status
from models.reads import read_rows
from models.roles import Caller
from models.scope import scope_clauses, scope_values
from models.territory.model import GridCell, Township, Village

FIGURES = ("found", "closed", "open", "overdue", "closed_on_time")
GROUPS = ("township", "village", "cell", "department", "sector")


def _sum(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).cast(Integer)


_PLACES = {"township": ("township_id",), "village": ("village_id", "township_id"),
           "cell": ("cell_id", "village_id", "township_id")}  # fmt: skip


def _keys(model: type, group_by: str, department: Any, sector: Any) -> list[Any]:
    """The columns a row of this grouping is keyed by: the unit and the units above it (both hazards and documents
    keep their place), or the department, or the sector."""
    if group_by in _PLACES:
        return [getattr(model, name).label(name) for name in _PLACES[group_by]]
    return [department.label("department_id")] if group_by == "department" else [sector.label("sector")]


def hazard_counts(
    session: Session, *, caller: Caller, group_by: str, start: datetime, end: datetime, end_day: date
) -> dict[str, Any]:
    """Figures per group (see the module), each with `general`, `major` and `all`, and the `total` of the caller's
    scope. `end_day`: the county's day at `end` (what a deadline is compared with)."""
    if group_by not in GROUPS:
        raise ValueError(group_by)
    keys = _keys(Hazard, group_by, HazardDepartment.department_id, Hazard.sector)
    closed = and_(Hazard.closed_at.is_not(None), Hazard.closed_at < end)
    figures = {
        "found": func.count(),
        "closed": _sum(closed),
        "open": _sum(~closed),
        "overdue": _sum(and_(~closed, Hazard.deadline.is_not(None), Hazard.deadline < end_day)),
        "closed_on_time": _sum(and_(closed, Hazard.closed_on_time.is_(True))),
    }

    def counted(by: list[Any]) -> list[dict[str, Any]]:
        stmt = (
            select(*by, Hazard.severity.label("severity"), *[v.label(k) for k, v in figures.items()])
            .where(
                Hazard.found_at >= start,
                Hazard.found_at < end,
                Hazard.status != Status.VOIDED.value,
                *scope_clauses(caller, Hazard),
            )
            .group_by(*by, Hazard.severity)
        )
        if group_by == "department" and by:
            stmt = stmt.join(HazardDepartment, HazardDepartment.hazard_id == Hazard.id)
        return read_rows(session, stmt, scope_values(caller))

    def add(part: dict[str, Any], row: dict[str, Any]) -> None:
        for figure in FIGURES:
            part[row["severity"]][figure] += row[figure]
            part["all"][figure] += row[figure]

    rows = counted(keys)
    key_names = [k.key for k in keys]
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(row[k] for k in key_names)
        add(groups.setdefault(key, {**dict(zip(key_names, key, strict=True)), **_empty()}), row)
    total = _empty()
    # by department a hazard counts under each department that sees it: the total counts each hazard once
    for row in counted([]) if group_by == "department" else rows:
        add(total, row)
    _count_documents(session, caller, group_by, start.astimezone(county_zone()).date(), end_day, groups, total)
    items = [_with_rates(g) for g in groups.values()]
    _name(session, group_by, items)
    items.sort(key=lambda g: (g.get("code") is None, g.get("code") or "", str(g.get(key_names[0]) or "")))
    return {"items": items, "total": _with_rates(total)}


def _empty() -> dict[str, Any]:
    parts: dict[str, Any] = {
        p: dict.fromkeys(FIGURES, 0) for p in (Severity.GENERAL.value, Severity.MAJOR.value, "all")
    }
    return {**parts, "documents": {kind.value: 0 for kind in DocumentKind}}


def _count_documents(
    session: Session,
    caller: Caller,
    group_by: str,
    first_day: date,
    end_day: date,
    groups: dict[tuple[Any, ...], dict[str, Any]],
    total: dict[str, Any],
) -> None:
    """The enforcement documents issued in the period, by kind, into each group (by the enterprise's place when
    issued, the issuing department, or the enterprise's sector) and the total."""
    keys = _keys(EnforcementDocument, group_by, EnforcementDocument.department_id, Enterprise.sector)
    stmt = (
        select(*keys, EnforcementDocument.kind.label("kind"), func.count().label("n"))
        .where(
            EnforcementDocument.issued_on >= first_day,
            EnforcementDocument.issued_on < end_day,
            *scope_clauses(caller, EnforcementDocument),
        )
        .group_by(*keys, EnforcementDocument.kind)
    )
    if group_by == "sector":
        stmt = stmt.join(Enterprise, Enterprise.id == EnforcementDocument.enterprise_id)
    names = [k.key for k in keys]
    for row in read_rows(session, stmt, scope_values(caller)):
        key = tuple(row[k] for k in names)
        group = groups.setdefault(key, {**dict(zip(names, key, strict=True)), **_empty()})
        group["documents"][row["kind"]] += row["n"]
        total["documents"][row["kind"]] += row["n"]


def _with_rates(group: dict[str, Any]) -> dict[str, Any]:
    for part in (Severity.GENERAL.value, Severity.MAJOR.value, "all"):
        figures = group[part]
        figures["rectification_rate"] = round(figures["closed"] / figures["found"], 4) if figures["found"] else None
        figures["on_time_rate"] = round(figures["closed_on_time"] / figures["closed"], 4) if figures["closed"] else None
    return group


def _name(session: Session, group_by: str, items: list[dict[str, Any]]) -> None:
    """Each row's unit by code and name (departments by code and name, sectors by their Chinese name)."""
    from models.departments.model import Department, Sector

    model, key, code = {
        "township": (Township, "township_id", Township.code),
        "village": (Village, "village_id", Village.code),
        "cell": (GridCell, "cell_id", GridCell.code),
        "department": (Department, "department_id", Department.code),
        "sector": (Sector, "sector", Sector.code),
    }[group_by]
    wanted = {item[key] for item in items if item[key] is not None}
    column = model.code if group_by == "sector" else model.id
    names = {
        row[0]: (row[1], row[2]) for row in session.execute(select(column, code, model.name).where(column.in_(wanted)))
    }
    for item in items:
        item["code"], item["name"] = names.get(item[key], (None, None))

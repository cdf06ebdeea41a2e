"""A period's rosters as the .xlsx sheet offices circulate (值班安排表): the period and the county office's duty
desk on top, then one block per unit (its name and submission, a header row, a row per shift: date, hours, leader
on duty and phone, duty officers and phones, duty line, notes), townships first; a second sheet lists each unit's
submission (报送情况). A unit's block holds its roster as last submitted; a unit that has not submitted says so.
Times in the county's zone. The units of the caller's scope (as the period check). Never commits.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.base import county_zone
from models.duty.model import DutyPeriod, DutyPeriodUnit, DutyRoster
from models.duty.roster_checks import unit_names, visible_units
from models.duty.roster_reads import shifts_of
from models.errors import NotFound
from models.roles import Caller

HEADER = ("日期", "值班时间", "带班领导", "领导电话", "值班人员", "值班人员电话", "值班电话", "备注")
WIDTHS = (16, 22, 12, 16, 24, 30, 16, 24)
STATUS = {"draft": "未报送（草稿）", "submitted": "已报送", "approved": "已审核", "returned": "已退回"}
WEEKDAY = "一二三四五六日"


def _local(moment: datetime) -> datetime:
    return moment.astimezone(county_zone())


def _hours(starts: datetime, ends: datetime) -> str:
    start, end = _local(starts), _local(ends)
    days = (end.date() - start.date()).days
    if days == 0:
        return f"{start:%H:%M}—{end:%H:%M}"
    if days == 1:
        return f"{start:%H:%M}—次日{end:%H:%M}"
    return f"{start:%H:%M}—{end.month}月{end.day}日{end:%H:%M}"


def _day(moment: datetime) -> str:
    local = _local(moment)
    return f"{local.month}月{local.day}日（周{WEEKDAY[local.weekday()]}）"


def _row(shift: dict[str, Any]) -> list[str]:
    leader, officers = shift["leader"], shift["officers"]
    return [
        _day(shift["starts_at"]), _hours(shift["starts_at"], shift["ends_at"]),
        leader["name"] if leader else "", (leader["phone"] or "") if leader else "",
        "、".join(p["name"] for p in officers), "、".join(p["phone"] or "" for p in officers),
        shift["phone"] or "", shift["notes"] or "",
    ]  # fmt: skip


def _submission(roster: Any) -> str:
    if roster is None:
        return "未报送"
    if roster.revision == 0:
        return STATUS["draft"]
    when = f"{_local(roster.submitted_at):%Y-%m-%d %H:%M}"
    return f"{STATUS[roster.status]}（第{roster.revision}版，{when}{'，逾期报送' if roster.late else ''}）"


def period_sheet(session: Session, *, caller: Caller, period_id: int) -> tuple[bytes, str]:
    """The period's .xlsx sheet (404 for a period that does not exist), and a name for the file."""
    period = session.get(DutyPeriod, period_id)
    if period is None:
        raise NotFound(f"there is no duty period with id {period_id}")
    visible = visible_units(session, caller=caller)
    named = {
        ("township", u.township_id) if u.township_id is not None else ("department", u.department_id)
        for u in session.execute(select(DutyPeriodUnit.township_id, DutyPeriodUnit.department_id)
                                 .where(DutyPeriodUnit.period_id == period_id))
    }  # fmt: skip
    rosters = {
        (("township", r.township_id) if r.township_id is not None else ("department", r.department_id)): r
        for r in session.execute(
            select(DutyRoster.id, DutyRoster.township_id, DutyRoster.department_id, DutyRoster.status,
                   DutyRoster.revision, DutyRoster.late, DutyRoster.submitted_at)
            .where(DutyRoster.period_id == period_id)
        )
    }  # fmt: skip
    units = sorted((u for u in named | set(rosters) if visible is None or u in visible),
                   key=lambda u: (u[0] != "township", u[1]))  # fmt: skip
    shifts = shifts_of(session, caller=caller, roster_ids=[r.id for u, r in rosters.items()
                                                           if u in units and r.revision > 0])  # fmt: skip
    names = unit_names(session, caller=caller)
    blocks = [(names.get(u, f"{u[0]} {u[1]}"), rosters.get(u), shifts.get(rosters[u].id, []) if u in rosters else [])
              for u in units]  # fmt: skip
    return _workbook(period, blocks), f"duty-period-{period_id}.xlsx"


def _workbook(period: DutyPeriod, blocks: list[tuple[str, Any, list[dict[str, Any]]]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = "值班表"
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    sheet.append([f"{period.name}值班安排表" + ("（已取消）" if period.cancelled_at else "")])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    desk = f"    县安委会办公室值班电话：{period.desk_phone}" if period.desk_phone else ""
    sheet.append([f"值班时间：{_local(period.starts_at):%Y-%m-%d %H:%M} 至 {_local(period.ends_at):%Y-%m-%d %H:%M}"
                  f"    报送截止：{_local(period.deadline):%Y-%m-%d %H:%M}{desk}"])  # fmt: skip
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(HEADER))
    for name, roster, shifts in blocks:
        sheet.append([])
        sheet.append([f"{name}    {_submission(roster)}"])
        sheet.merge_cells(start_row=sheet.max_row, start_column=1, end_row=sheet.max_row, end_column=len(HEADER))
        sheet.cell(row=sheet.max_row, column=1).font = bold
        sheet.append(list(HEADER))
        for cell in sheet[sheet.max_row]:
            cell.font, cell.fill = bold, fill
        for shift in shifts:
            sheet.append(_row(shift))
        if not shifts:
            sheet.append(["（未报送）" if roster is None or roster.revision == 0 else "（无班次）"])
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    summary = book.create_sheet("报送情况")
    summary.append(["单位", "报送情况", "班次数"])
    for cell in summary[1]:
        cell.font = bold
    for name, roster, shifts in blocks:
        summary.append([name, _submission(roster), len(shifts)])
    summary.column_dimensions["A"].width, summary.column_dimensions["B"].width = 24, 44
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

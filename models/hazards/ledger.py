"""The hazard ledger as a file (隐患台账), as township offices keep it: one row per hazard with every signature, Chinese
column headers, times in the county's zone; and the register of major hazards (重大隐患) with their five
implementations. Never commits.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.base import county_today, county_zone
from models.hazards.model import FIVE_IMPLEMENTATIONS, Hazard, HazardStep
from models.hazards.queries import STEP_SELECT, hazard_listing, is_overdue
from models.listing import Listing
from models.reads import read_rows
from models.roles import Caller
from models.territory.model import GridCell, Township, Village

KIND = {"unsafe_condition": "物的不安全状态", "unsafe_behaviour": "人的不安全行为", "management_defect": "管理缺陷"}
SEVERITY = {"general": "一般隐患", "major": "重大隐患"}
SOURCE = {"government_inspection": "政府检查", "self_check": "企业自查", "third_party": "第三方专家",
          "tip_off": "举报投诉", "patrol": "网格巡查"}  # fmt: skip
STATUS = {"reported": "已上报", "rectifying": "整改中", "pending_acceptance": "待验收", "closed": "已销号",
          "voided": "已作废"}  # fmt: skip
ACTION = {"report": "上报", "plan": "五落实", "start_rectification": "下达整改", "rectify_on_the_spot": "立即整改",
          "rectified": "整改完成", "accept": "验收销号", "reject": "验收不通过(复查)", "void": "作废", "refer": "移交",
          "accept_referral": "接收移交", "return_referral": "退回移交", "record_interim_measures": "临时性保障措施",
          "request_extension": "申请延期", "approve_extension": "同意延期", "refuse_extension": "不同意延期",
          "list": "挂牌督办", "supervision_visit": "现场督办"}  # fmt: skip
LEVEL = {"county": "县级", "city": "市级", "province": "省级"}
PLAN = {"responsible_person": "责任人", "responsible_unit": "责任单位", "measures": "整改措施",
        "funds_yuan": "整改资金(元)", "deadline": "整改时限", "contingency_plan": "应急预案"}  # fmt: skip

HEADER = (
    "隐患编号", "发现时间", "乡镇(街道)", "村(社区)", "网格", "企业", "地点", "隐患描述", "隐患类别", "行业领域",
    "隐患等级", "来源", "发现人", *(f"五落实·{PLAN[k]}" for k in FIVE_IMPLEMENTATIONS), "整改期限", "整改责任人",
    "状态", "是否逾期", "销号时间", "按期整改", "签名记录",
)  # fmt: skip
MAJOR_HEADER = ("隐患编号", "发现时间", "乡镇(街道)", "企业", "地点", "隐患描述", "行业领域",
                *(PLAN[k] for k in FIVE_IMPLEMENTATIONS), "挂牌督办级别", "督办单位", "督办文号", "挂牌日期",
                "摘牌时间", "状态", "销号时间")  # fmt: skip
MAX_ROWS = 200_000  # a province's year; a county's is some 20,000


def _local(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(county_zone()).strftime("%Y-%m-%d %H:%M")


def _signature(step: dict[str, Any]) -> str:
    """One signed step as a line: when, what, who (role), and the comment."""
    line = f"{_local(step['signed_at'])} {ACTION.get(step['action'], step['action'])} {step['signer']}"
    if step["comment"]:
        line += f"：{step['comment']}"
    return line


def _names(session: Session, model: type, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(model.id, model.name).where(model.id.in_(ids))).all())


def ledger_rows(session: Session, *, caller: Caller, **filters: Any) -> tuple[list[list[Any]], list[list[Any]]]:
    """The ledger's rows (HEADER) and the major hazards' register (MAJOR_HEADER) for the filters of the list (in the
    caller's scope), newest found first."""
    listing: Listing = hazard_listing(caller=caller, **filters)
    hazards = read_rows(session, listing._ordered().limit(MAX_ROWS), dict(listing.params))
    chosen = select(Hazard.id).where(*listing.where)
    steps: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for step in read_rows(
        session, STEP_SELECT.where(HazardStep.hazard_id.in_(chosen)).order_by(HazardStep.id), dict(listing.params)
    ):
        steps[step["hazard_id"]].append(step)
    townships = _names(session, Township, {h["township_id"] for h in hazards if h["township_id"]})
    villages = _names(session, Village, {h["village_id"] for h in hazards if h["village_id"]})
    cells = _names(session, GridCell, {h["cell_id"] for h in hazards if h["cell_id"]})
    today = county_today()
    rows, major = [], []
    for h in hazards:
        plan = h["five_implementations"] or {}
        place = (townships.get(h["township_id"], ""), villages.get(h["village_id"], ""), cells.get(h["cell_id"], ""))
        on_time = "" if h["closed_on_time"] is None else ("是" if h["closed_on_time"] else "否")
        rows.append([
            h["number"], _local(h["found_at"]), *place, h["enterprise_name"] or "", h["place_description"] or "",
            h["description"], KIND[h["kind"]], h["sector"], SEVERITY[h["severity"]], SOURCE[h["source"]],
            h["found_by"], *(plan.get(k, "") for k in FIVE_IMPLEMENTATIONS),
            h["deadline"].isoformat() if isinstance(h["deadline"], date) else "", h["responsible_person"] or "",
            STATUS[h["status"]], "是" if is_overdue(h, today) else "否", _local(h["closed_at"]), on_time,
            "\n".join(_signature(s) for s in steps[h["id"]]),
        ])  # fmt: skip
        if h["severity"] == "major" and h["status"] != "voided":
            major.append([
                h["number"], _local(h["found_at"]), place[0], h["enterprise_name"] or "", h["place_description"] or "",
                h["description"], h["sector"], *(plan.get(k, "") for k in FIVE_IMPLEMENTATIONS),
                LEVEL.get(h["listed_level"], ""), h["listed_by"] or "", h["listed_document"] or "",
                h["listed_on"].isoformat() if h["listed_on"] else "", _local(h["listing_lifted_at"]),
                STATUS[h["status"]], _local(h["closed_at"]),
            ])  # fmt: skip
    return rows, major


def ledger_csv(rows: list[list[Any]]) -> bytes:
    """CSV, UTF-8 with a BOM (Excel then reads the Chinese right)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def ledger_xlsx(rows: list[list[Any]], major: list[list[Any]]) -> bytes:
    """.xlsx: the ledger on its first sheet, the major hazards' register on the second."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook(write_only=False)
    for sheet, header, body in ((book.active, HEADER, rows), (book.create_sheet(), MAJOR_HEADER, major)):
        sheet.title = "隐患台账" if header is HEADER else "重大隐患"
        sheet.append(list(header))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in body:
            sheet.append(row)
        sheet.freeze_panes = "A2"
        for index, name in enumerate(header, start=1):
            sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = max(10, len(name) * 2 + 2)
    signatures = book["隐患台账"].cell(row=1, column=len(HEADER)).column_letter
    book["隐患台账"].column_dimensions[signatures].width = 60
    for cell in book["隐患台账"][signatures][1:]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

"""The columns of the enterprise ledger (企业台账) and how each cell is read. No database here.

One table, `COLUMNS`, says everything about a column: its English and Chinese names (either heads the column), what
it means, the values it takes (with their Chinese spellings), whether every row needs it, and how a cell is read.
The template (`models.enterprises.ledger`) and the docs' table (`columns_markdown`) are derived from it. The limits
are the API's: lengths are the model's column lengths (the API's schemas declare the same), the phone pattern is
`api.fields.PHONE_PATTERN` (a test holds them equal), credit codes are checked by `models.enterprises.credit_code`.

A cell left empty means "not given": a new record takes the default (or none), an existing one keeps its value. The
import never clears a value (PATCH does), except where a word says "none" (重大危险源等级 无).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from geo.coords import CoordSystem
from models.enterprises.credit_code import credit_code_problem
from models.enterprises.model import Enterprise, KeyLevel, RiskLevel, Scale, Status

PHONE_PATTERN = r"\A\+?[0-9][0-9-]{4,18}[0-9]\Z"  # = api.fields.PHONE_PATTERN (tests/enterprises/test_import.py)
_PHONE = re.compile(PHONE_PATTERN)
_DAY = re.compile(r"\A(20[0-9]{2})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?\Z")
_COMPACT_DAY = re.compile(r"\A(20[0-9]{2})([0-9]{2})([0-9]{2})\Z")
NONE = object()  # a word for "none" (无): sets the value to null, unlike an empty cell


class CellError(ValueError):
    """A cell's value breaks a rule: (code, detail)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class Column:
    key: str  # the English name: the API's field
    zh: tuple[str, ...]  # Chinese names, the first one the template's
    meaning: str
    allowed: str  # the values it takes, for people
    example: Any  # the template's example row
    read: Callable[[Any], Any]  # a non-empty cell -> the value, or CellError
    required: bool = False  # every row must give it

    @property
    def label(self) -> str:
        """The header the template writes: both names."""
        return f"{self.zh[0]}/{self.key}"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        raise CellError("invalid", "a text is expected, not a true/false cell")
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone or licence number that a spreadsheet stored as a number
    text = value.isoformat() if isinstance(value, date) else str(value)
    if "\x00" in text:
        raise CellError("nul-character", "text may not contain a NUL character")
    return text.strip()


def _bounded(key: str) -> Callable[[Any], str]:
    limit = Enterprise.__table__.c[key].type.length

    def read(value: Any) -> str:
        text = _text(value)
        if len(text) > limit:
            raise CellError("length", f"1 to {limit} characters, not {len(text)}")
        return text

    return read


def _chars(key: str) -> str:
    return f"1 to {Enterprise.__table__.c[key].type.length} characters"


def _credit_code(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise CellError(
            "credit-code-format",
            "the cell holds a number, whose digits a spreadsheet may have rounded: format the column as text",
        )
    code = _text(value)
    problem = credit_code_problem(code)
    if problem is not None:
        raise CellError(*problem)
    return code


def _degrees(low: float, high: float, what: str) -> Callable[[Any], float]:
    def read(value: Any) -> float:
        try:
            number = float(value) if isinstance(value, int | float) else float(_text(value))
        except ValueError:
            raise CellError("invalid", f"a {what} in decimal degrees is expected, e.g. 113.1234567") from None
        if not math.isfinite(number) or not low <= number <= high:
            raise CellError("coordinates-out-of-range", f"{what}: {low:g} to {high:g}")
        return number

    return read


def _choice(words: dict[str, tuple[str, ...]], what: str) -> Callable[[Any], Any]:
    """One of the values (keys of `words`, in English), or one of its other spellings (case does not matter)."""
    lookup = {spelling.lower(): value for value, spellings in words.items() for spelling in (value, *spellings)}

    def read(value: Any) -> Any:
        text = _text(value)
        found = lookup.get(text.lower())
        if found is None:
            raise CellError("invalid", f"{text!r} is no {what}: one of {_spelled(words)}")
        return found

    return read


def _spelled(words: dict[str, tuple[str, ...]]) -> str:
    return "; ".join(f"{value} ({', '.join(spellings)})" if spellings else value for value, spellings in words.items())


def _grade(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool) and value in (1, 2, 3, 4):
        return int(value)
    text = _text(value)
    grades = {"1": 1, "一级": 1, "1级": 1, "2": 2, "二级": 2, "2级": 2, "3": 3, "三级": 3, "3级": 3, "4": 4}
    grades |= {"四级": 4, "4级": 4, "无": NONE, "否": NONE, "none": NONE}
    if text.lower() in grades:
        return grades[text.lower()]
    raise CellError("invalid", f"{text!r}: a major hazard source is of grade 1 to 4 (一级 to 四级), or 无 (none)")


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        day = value
    else:
        text = _text(value)
        parts = _DAY.match(text) or _COMPACT_DAY.match(text)
        if parts is None:
            raise CellError(
                "date-format", f"{text!r}: a day is expected, e.g. 2027-06-30 (or 2027/6/30, 2027年6月30日)"
            )
        try:
            day = date(*map(int, parts.groups()))
        except ValueError:
            raise CellError("date-format", f"{text!r} is no day of the calendar") from None
    if not 2000 <= day.year <= 2099:
        raise CellError("date-format", "a day in the years 2000 to 2099")
    return day


def _phone(value: Any) -> str:
    text = _text(value)
    if not _PHONE.match(text):
        raise CellError("phone-format", f"{text!r}: a phone number is 6 to 20 digits and dashes, + in front allowed")
    return text


RISK_WORDS = {
    RiskLevel.RED.value: ("重大", "重大风险", "红", "红色"),
    RiskLevel.ORANGE.value: ("较大", "较大风险", "橙", "橙色"),
    RiskLevel.YELLOW.value: ("一般", "一般风险", "黄", "黄色"),
    RiskLevel.BLUE.value: ("低", "低风险", "蓝", "蓝色"),
}
KEY_WORDS = {
    KeyLevel.NONE.value: ("否", "无", "非重点"),
    KeyLevel.TOWNSHIP.value: ("镇级", "乡镇级", "乡级"),
    KeyLevel.COUNTY.value: ("县级",),
    KeyLevel.CITY.value: ("市级",),
    KeyLevel.PROVINCE.value: ("省级",),
}
SCALE_WORDS = {
    Scale.ABOVE_DESIGNATED.value: ("规上", "规模以上"),
    Scale.SMALL_MEDIUM.value: ("中小", "中小型"),
    Scale.MICRO.value: ("小微", "小微型"),
}
STATUS_WORDS = {  # closed is set by closing a record (POST /enterprises/{id}/close), never by an import
    Status.OPERATING.value: ("正常", "正常生产经营", "在产", "营业"),
    Status.SUSPENDED.value: ("停产整顿",),
    Status.SEASONAL_STOP.value: ("季节性停产",),
}
COORD_WORDS = {
    CoordSystem.WGS84.value: ("WGS-84", "GPS", "CGCS2000", "天地图"),  # CGCS2000 and WGS-84 differ by centimetres
    CoordSystem.GCJ02.value: ("GCJ-02", "高德", "腾讯", "火星坐标"),
    CoordSystem.BD09.value: ("BD-09", "百度"),
}

COLUMNS: tuple[Column, ...] = (
    Column("name", ("企业名称", "单位名称"), "the enterprise's name", _chars("name"), "示例化工有限公司",
           _bounded("name"), required=True),
    Column("credit_code", ("统一社会信用代码", "信用代码"), "unified social credit code: the key of the import",
           "18 characters, GB 32100-2015, the check character verified; format the column as text",
           "91430199MA4L000010", _credit_code, required=True),
    Column("sector", ("行业领域", "行业"), "the sector, which gives the supervising departments",
           "a sector's code or its Chinese name (GET /api/v1/sectors), e.g. hazardous_chemicals or 危险化学品",
           "危险化学品", _bounded("sector"), required=True),  # (which sectors exist is the database's)
    Column("lon", ("经度",), "longitude, in the coordinate system of 坐标系", "decimal degrees, -180 to 180",
           113.2012345, _degrees(-180, 180, "longitude"), required=True),
    Column("lat", ("纬度",), "latitude, in the coordinate system of 坐标系", "decimal degrees, -90 to 90", 28.1012345,
           _degrees(-90, 90, "latitude"), required=True),
    Column("coord_system", ("坐标系",), "the coordinate system of lon and lat (stored as WGS-84)",
           f"{_spelled(COORD_WORDS)}; empty: wgs84", "wgs84", _choice(COORD_WORDS, "coordinate system")),
    Column("risk_level", ("风险等级", "安全风险等级"), "four-colour safety risk level",
           f"{_spelled(RISK_WORDS)}; empty: blue for a new record", "一般", _choice(RISK_WORDS, "risk level")),
    Column("major_hazard_grade", ("重大危险源等级",), "major hazard source grade (GB 18218)",
           "1 to 4 (一级 to 四级); 无: none", "", _grade),
    Column("key_level", ("重点企业", "重点企业级别"), "key enterprise, designated by which level of government",
           f"{_spelled(KEY_WORDS)}; empty: none for a new record", "县级", _choice(KEY_WORDS, "key level")),
    Column("scale", ("规模", "企业规模"), "size", _spelled(SCALE_WORDS), "规上", _choice(SCALE_WORDS, "scale")),
    Column("status", ("经营状态", "状态"), "operating status",
           f"{_spelled(STATUS_WORDS)}; empty: operating for a new record; closing a record is not an import's",
           "正常", _choice(STATUS_WORDS, "status")),
    Column("licence_number", ("许可证号", "安全生产许可证号"), "safety licence number", _chars("licence_number"),
           "(湘)WH安许证字[2024]000123", _bounded("licence_number")),
    Column("licence_expires_on", ("许可证有效期", "许可证有效期至"), "the licence's last day",
           "a day: 2027-06-30, 2027/6/30, 2027年6月30日 or a date cell, years 2000 to 2099", "2027-06-30", _day),
    Column("legal_representative", ("法定代表人",), "legal representative", _chars("legal_representative"), "王建国",
           _bounded("legal_representative")),
    Column("safety_manager", ("安全负责人",), "person responsible for safety", _chars("safety_manager"), "李安全",
           _bounded("safety_manager")),
    Column("duty_phone", ("值班电话",), "24-hour duty phone", "6 to 20 digits and dashes, + in front allowed",
           "0731-55551234", _phone),
    Column("address", ("地址", "详细地址"), "address", _chars("address"), "青山镇工业园1号", _bounded("address")),
    Column("liaison_leader", ("包联领导",), "包联: the county leader who looks after a key enterprise",
           _chars("liaison_leader"), "副县长 张明", _bounded("liaison_leader")),
)  # fmt: skip
BY_KEY = {column.key: column for column in COLUMNS}
BY_NAME = {name.lower(): column for column in COLUMNS for name in (column.key, *column.zh)}


def columns_markdown() -> str:
    """The columns as a Markdown table (docs/enterprises-import.md holds it; a test keeps the two the same)."""
    lines = ["| 中文 | English | required | meaning | values |", "|---|---|---|---|---|"]
    for c in COLUMNS:
        lines.append(f"| {' / '.join(c.zh)} | `{c.key}` | {'yes' if c.required else ''} | {c.meaning} | {c.allowed} |")
    return "\n".join(lines)

"""Schemas of the holiday calendar: input is loaded by marshmallow, output only documented by it."""

from __future__ import annotations

import marshmallow as ma

from api.errors import coded
from api.extensions import Schema
from api.fields import Day, text_field
from models.duty.model import Holiday

_HOLIDAYS = "new_years_day 元旦, spring_festival 春节, tomb_sweeping_day 清明节, labour_day 劳动节, " \
    "dragon_boat_festival 端午节, national_day 国庆节, mid_autumn_festival 中秋节"  # fmt: skip


class HolidayEntrySchema(Schema):
    """One holiday of the notice: "2月6日至13日放假调休，共8天。2月14日（周日）、2月20日（周六）上班。"."""

    holiday = ma.fields.Enum(Holiday, by_value=True, required=True, metadata={"description": _HOLIDAYS})
    from_ = Day(data_key="from", required=True, metadata={"description": "its first day off"})
    to = Day(required=True, metadata={"description": "its last day off (at most 15 days after `from`)"})
    working_days = ma.fields.List(
        Day(),
        load_default=list,
        validate=ma.validate.Length(max=5, error=coded("invalid", "at most 5 working days")),
        metadata={"maxItems": 5, "description": "weekend days worked in exchange (调休上班)"},
    )


NOTICE_EXAMPLE = "国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕7号）"


class CalendarYearInSchema(Schema):
    notice = text_field(
        500,
        required=True,
        example=NOTICE_EXAMPLE,
        description="the notice the year is typed from: its title and number",
    )
    holidays = ma.fields.List(
        ma.fields.Nested(HolidayEntrySchema),
        required=True,
        validate=ma.validate.Length(min=1, max=12, error=coded("invalid", "1 to 12 holidays")),
        metadata={"minItems": 1, "maxItems": 12, "description": "each holiday once"},
    )
    replace_package = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "replace a year the chinese-calendar package holds, on purpose (else 409)"},
    )


class HolidayOutSchema(Schema):
    holiday = ma.fields.Enum(Holiday, by_value=True)
    name = ma.fields.String(metadata={"example": "春节"})
    from_ = ma.fields.Date(data_key="from")
    to = ma.fields.Date()
    days_off = ma.fields.Integer()
    working_days = ma.fields.List(ma.fields.Date())


class CalendarYearSchema(Schema):
    year = ma.fields.Integer()
    source = ma.fields.String(metadata={"description": "`entered` (from the notice) or the package and its version, "
                                        "e.g. `chinese-calendar 1.11.0`"})  # fmt: skip
    notice = ma.fields.String(allow_none=True)
    replaces_package = ma.fields.Boolean(metadata={"description": "entered over a year the package holds"})
    entered_by_user_id = ma.fields.Integer(allow_none=True)
    entered_at = ma.fields.DateTime(allow_none=True)
    version = ma.fields.Integer(metadata={"description": "0 for a year answered from the package"})
    holidays = ma.fields.List(ma.fields.Nested(HolidayOutSchema), metadata={"description": "in date order"})
    days_off = ma.fields.Integer(metadata={"description": "the holidays' days off in all"})


class CalendarYearItemSchema(Schema):
    year = ma.fields.Integer()
    source = ma.fields.String()
    replaces_package = ma.fields.Boolean()


class CalendarYearsSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(CalendarYearItemSchema), metadata={"description": "the newest first"})

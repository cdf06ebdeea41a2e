"""Schemas of the holiday calendar and duty periods: input is loaded by marshmallow, output only documented by it."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from api.errors import coded
from api.extensions import PatchSchema, Schema
from api.fields import Day, Instant, id_field, phone_field, text_field
from api.pagination import CursorArgs, CursorMetaSchema
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


# ---- duty periods -------------------------------------------------------------------------------------------------

CLOCK_PATTERN = r"\A(?:[01][0-9]|2[0-3]):[0-5][0-9]\Z"


def _clock(description: str, **kwargs: Any) -> ma.fields.String:
    return ma.fields.String(
        validate=ma.validate.Regexp(CLOCK_PATTERN, error=coded("clock-format", "a local time, HH:MM, e.g. 08:30")),
        metadata={"example": "08:30", "description": description},
        **kwargs,
    )


def _unit_ids(what: str) -> ma.fields.List:
    return ma.fields.List(
        id_field(),
        validate=ma.validate.Length(max=500, error=coded("invalid", "at most 500")),
        metadata={"maxItems": 500, "description": f"the {what} that submit a roster"},
    )


class _PeriodFields(Schema):
    name = text_field(100, example="2027年春节")
    starts_at = Instant()
    ends_at = Instant()
    deadline = Instant(metadata={"description": "rosters are due by then (报送截止), before the start"})
    shift_start = _clock("when each 24 h shift starts, in the county's zone")
    split_at = _clock("when day duty hands over to overnight duty (值宿), if the 24 h may be split", allow_none=True)
    leader_required = ma.fields.Boolean(metadata={"description": "a leader on duty (带班领导) on every shift"})
    holiday = ma.fields.Enum(Holiday, by_value=True, allow_none=True, metadata={"description": "proposed from"})
    notes = text_field(2000, allow_none=True)
    township_ids = _unit_ids("townships")
    department_ids = _unit_ids("departments")
    desk_phone = phone_field(allow_none=True, metadata={"description": "the county office's duty desk (安委办值班室)",
                                                        "example": "0731-55550000"})  # fmt: skip
    desk_department_id = id_field(allow_none=True, metadata={"description": "the department whose roster staffs "
                                                             "the county duty desk"})  # fmt: skip


class DutyPeriodInSchema(_PeriodFields):
    """A new period; its units default to every active township and department."""

    name = text_field(100, required=True, example="2027年春节")
    starts_at = Instant(required=True)
    ends_at = Instant(required=True)
    deadline = Instant(required=True, metadata={"description": "rosters are due by then (报送截止)"})
    shift_start = _clock("when each 24 h shift starts, in the county's zone", load_default="08:30")
    leader_required = ma.fields.Boolean(load_default=True, metadata={"description": "a leader on every shift"})


class DutyPeriodPatchSchema(PatchSchema, _PeriodFields):
    pass


class DutyPeriodCancelSchema(Schema):
    reason = text_field(500, required=True, example="上级通知取消")


class DutyPeriodProposalSchema(Schema):
    """A period as POST /duty/periods takes it (a proposal, not stored)."""

    name = ma.fields.String()
    starts_at = ma.fields.DateTime()
    ends_at = ma.fields.DateTime()
    deadline = ma.fields.DateTime()
    shift_start = ma.fields.String()
    split_at = ma.fields.String(allow_none=True)
    leader_required = ma.fields.Boolean()
    holiday = ma.fields.String(allow_none=True)
    township_ids = ma.fields.List(ma.fields.Integer())
    department_ids = ma.fields.List(ma.fields.Integer())
    desk_phone = ma.fields.String(allow_none=True)
    desk_department_id = ma.fields.Integer(allow_none=True)


class DutyPeriodSchema(DutyPeriodProposalSchema):
    id = ma.fields.Integer()
    notes = ma.fields.String(allow_none=True)
    created_by_user_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()
    cancelled = ma.fields.Boolean()
    cancelled_at = ma.fields.DateTime(allow_none=True)
    cancel_reason = ma.fields.String(allow_none=True)
    version = ma.fields.Integer()


class DutyPeriodPageSchema(CursorMetaSchema):
    items = ma.fields.List(ma.fields.Nested(DutyPeriodSchema))


class DutyPeriodListArgs(CursorArgs):
    year = ma.fields.Integer(
        validate=ma.validate.Range(2000, 2099, error=coded("invalid", "2000 to 2099")),
        metadata={"description": "periods starting in this year (in the county)"},
    )
    include_cancelled = ma.fields.Boolean(load_default=False)


class ProposalArgs(Schema):
    year = ma.fields.Integer(
        required=True, validate=ma.validate.Range(2000, 2099, error=coded("invalid", "2000 to 2099"))
    )
    holiday = ma.fields.Enum(Holiday, by_value=True, required=True)
    margin_days = ma.fields.Integer(
        load_default=1,
        validate=ma.validate.Range(0, 7, error=coded("invalid", "0 to 7")),
        metadata={"description": "days of duty before the first day off and after the last (default 1)"},
    )
    shift_start = _clock("when each shift starts (default 08:30)", load_default="08:30")


class PersonCalendarArgs(Schema):
    officer_id = id_field(metadata={"description": "this officer's shifts (default: the caller's own)"})
    user_id = id_field(
        metadata={"description": "this account's shifts (an account linked to an officer: the officer's)"}
    )

    @ma.validates_schema
    def _at_most_one(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("officer_id") is not None and data.get("user_id") is not None:
            raise ma.ValidationError(coded("one-person", "give at most one of officer_id, user_id"))

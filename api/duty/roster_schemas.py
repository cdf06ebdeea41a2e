"""Schemas of duty rosters: input is loaded by marshmallow, output only documented by it."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from api.errors import coded
from api.extensions import PatchSchema, Schema
from api.fields import Instant, id_field, phone_field, text_field
from api.pagination import CursorArgs, CursorMetaSchema
from geo.coords import CoordSystem
from models.duty.model import RosterStatus

MAX_SHIFTS = 500  # a roster's shifts (60 days split in two: 120)
MAX_OFFICERS = 10  # duty officers on one shift


class PersonRefSchema(Schema):
    """A person on the shift: an officer (`officer_id`), or an account without one (`user_id`: a township's
    leaders, a department's staff); an account linked to an officer is that officer."""

    officer_id = id_field(metadata={"description": "an officer of the roster's township"})
    user_id = id_field(metadata={"description": "an account of the roster's township or department"})
    phone = phone_field(allow_none=True, metadata={"description": "their phone during the shift (default: an "
                                                   "officer's mobile; an account without an officer has none)",
                                                   "example": "13800138001"})  # fmt: skip

    @ma.validates_schema
    def _one(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if (data.get("officer_id") is None) == (data.get("user_id") is None):
            raise ma.ValidationError(coded("one-person", "give one of officer_id, user_id"))


class ShiftInSchema(Schema):
    starts_at = Instant(required=True)
    ends_at = Instant(required=True, metadata={"description": "after starts_at, at most 25 hours later"})
    leader = ma.fields.Nested(
        PersonRefSchema, allow_none=True, metadata={"description": "the leader on duty (带班领导)"}
    )
    officers = ma.fields.List(
        ma.fields.Nested(PersonRefSchema),
        load_default=list,
        validate=ma.validate.Length(max=MAX_OFFICERS, error=coded("invalid", f"at most {MAX_OFFICERS}")),
        metadata={"maxItems": MAX_OFFICERS, "description": "the duty officers (值班员)"},
    )
    phone = phone_field(allow_none=True, metadata={"description": "the duty line during the shift (值班电话)"})
    notes = text_field(500, allow_none=True)


def _shifts(**kwargs: Any) -> ma.fields.List:
    return ma.fields.List(
        ma.fields.Nested(ShiftInSchema),
        validate=ma.validate.Length(max=MAX_SHIFTS, error=coded("invalid", f"at most {MAX_SHIFTS} shifts")),
        metadata={"maxItems": MAX_SHIFTS, "description": "the whole roster: each shift inside the period"},
        **kwargs,
    )


class RosterInSchema(Schema):
    """A unit's roster for a period, kept as a draft until submitted: a township's (`township_id`) or a
    department's (`department_id`)."""

    period_id = id_field(required=True)
    township_id = id_field()
    department_id = id_field()
    shifts = _shifts(load_default=list)
    notes = text_field(2000, allow_none=True)


class RosterPatchSchema(PatchSchema):
    shifts = _shifts()
    notes = text_field(2000, allow_none=True)


class RosterReturnSchema(Schema):
    reason = text_field(500, required=True, example="3日夜间缺带班领导，请补充后重新报送")


class PersonOutSchema(Schema):
    officer_id = ma.fields.Integer(allow_none=True)
    user_id = ma.fields.Integer(allow_none=True)
    name = ma.fields.String()
    phone = ma.fields.String(allow_none=True)


class ShiftOutSchema(Schema):
    starts_at = ma.fields.DateTime()
    ends_at = ma.fields.DateTime()
    leader = ma.fields.Nested(PersonOutSchema, allow_none=True)
    officers = ma.fields.List(ma.fields.Nested(PersonOutSchema))
    phone = ma.fields.String(allow_none=True)
    notes = ma.fields.String(allow_none=True)


class RosterUnitSchema(Schema):
    kind = ma.fields.String(metadata={"description": "township or department"})
    id = ma.fields.Integer()
    name = ma.fields.String()


class RosterItemSchema(Schema):
    id = ma.fields.Integer()
    period_id = ma.fields.Integer()
    unit = ma.fields.Nested(RosterUnitSchema)
    township_id = ma.fields.Integer(allow_none=True)
    department_id = ma.fields.Integer(allow_none=True)
    status = ma.fields.Enum(RosterStatus, by_value=True)
    revision = ma.fields.Integer(metadata={"description": "its latest revision (0: never submitted)"})
    late = ma.fields.Boolean(metadata={"description": "first submitted after the period's deadline"})
    first_submitted_at = ma.fields.DateTime(allow_none=True)
    submitted_at = ma.fields.DateTime(allow_none=True)
    decided_at = ma.fields.DateTime(allow_none=True)
    decided_by_user_id = ma.fields.Integer(allow_none=True)
    return_reason = ma.fields.String(allow_none=True)
    notes = ma.fields.String(allow_none=True)
    shift_count = ma.fields.Integer()
    created_by_user_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    version = ma.fields.Integer()


class RosterSchema(RosterItemSchema):
    shifts = ma.fields.List(ma.fields.Nested(ShiftOutSchema), metadata={"description": "in time order"})


class RosterPageSchema(CursorMetaSchema):
    items = ma.fields.List(ma.fields.Nested(RosterItemSchema))


class RosterListArgs(CursorArgs):
    period_id = id_field()
    status = ma.fields.Enum(RosterStatus, by_value=True)
    township_id = id_field()
    department_id = id_field()


class RevisionSchema(Schema):
    roster_id = ma.fields.Integer()
    number = ma.fields.Integer()
    submitted_at = ma.fields.DateTime()
    submitted_by_user_id = ma.fields.Integer(allow_none=True)
    late = ma.fields.Boolean(metadata={"description": "submitted after the deadline"})
    shifts = ma.fields.List(ma.fields.Nested(ShiftOutSchema), metadata={"description": "as submitted"})
    notes = ma.fields.String(allow_none=True)
    decision = ma.fields.String(allow_none=True, metadata={"description": "approved, returned, or none yet"})
    decided_at = ma.fields.DateTime(allow_none=True)
    decided_by_user_id = ma.fields.Integer(allow_none=True)
    reason = ma.fields.String(allow_none=True)


class RevisionsSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(RevisionSchema), metadata={"description": "the latest first"})


# ---- checks -------------------------------------------------------------------------------------------------------


class CheckArgs(Schema):
    min_rest_hours = ma.fields.Float(
        load_default=8,
        validate=ma.validate.Range(0, 72, error=coded("invalid", "0 to 72 hours")),
        metadata={"description": "the least rest between two of a person's stretches of duty (default 8)"},
    )
    max_duty_hours = ma.fields.Float(
        load_default=25,
        validate=ma.validate.Range(1, 168, error=coded("invalid", "1 to 168 hours")),
        metadata={"description": "the longest stretch of duty, shifts that overlap or touch merged (default 25)"},
    )


class CheckedShiftSchema(Schema):
    roster_id = ma.fields.Integer()
    unit = ma.fields.Nested(RosterUnitSchema)
    starts_at = ma.fields.DateTime()
    ends_at = ma.fields.DateTime()


class RosterProblemSchema(Schema):
    kind = ma.fields.String(
        metadata={"description": "gap, double-booking, short-rest, long-duty, person-inactive, no-phone"}
    )
    units = ma.fields.List(ma.fields.Nested(RosterUnitSchema), metadata={"description": "the units it concerns"})
    from_ = ma.fields.DateTime(data_key="from")
    to = ma.fields.DateTime(metadata={"description": "gap, double-booking (the overlap), short-rest, long-duty"})
    minutes = ma.fields.Float(metadata={"description": "gap, double-booking: how long"})
    hours = ma.fields.Float(metadata={"description": "short-rest: the rest; long-duty: the stretch"})
    missing = ma.fields.List(ma.fields.String(), metadata={"description": "gap: leader, officer or both"})
    person = ma.fields.Nested(PersonOutSchema, metadata={"description": "every kind but gap"})
    shifts = ma.fields.List(
        ma.fields.Nested(CheckedShiftSchema), metadata={"description": "double-booking: the two shifts"}
    )
    shift_count = ma.fields.Integer(metadata={"description": "person-inactive, no-phone: on how many shifts"})


class CheckSummarySchema(Schema):
    gaps = ma.fields.Integer()
    gap_minutes = ma.fields.Float()
    double_bookings = ma.fields.Integer()
    short_rests = ma.fields.Integer()
    long_duties = ma.fields.Integer()
    inactive_people = ma.fields.Integer()
    people_without_phone = ma.fields.Integer()


class _CheckFields(Schema):
    period_id = ma.fields.Integer()
    leader_required = ma.fields.Boolean()
    min_rest_hours = ma.fields.Float()
    max_duty_hours = ma.fields.Float()
    problems = ma.fields.List(ma.fields.Nested(RosterProblemSchema), metadata={"description": "in time order"})
    summary = ma.fields.Nested(CheckSummarySchema)


class RosterCheckSchema(_CheckFields):
    roster_id = ma.fields.Integer()
    unit = ma.fields.Nested(RosterUnitSchema)
    status = ma.fields.Enum(RosterStatus, by_value=True)
    revision = ma.fields.Integer()
    late = ma.fields.Boolean()


class UnitCheckSchema(Schema):
    unit = ma.fields.Nested(RosterUnitSchema)
    roster_id = ma.fields.Integer(allow_none=True)
    status = ma.fields.String(metadata={"description": "the roster's status, or `missing` (none written)"})
    revision = ma.fields.Integer()
    late = ma.fields.Boolean()
    submitted_at = ma.fields.DateTime(allow_none=True)
    overdue = ma.fields.Boolean(metadata={"description": "not submitted, and the deadline has passed"})
    summary = ma.fields.Nested(CheckSummarySchema)


class NotSubmittedSchema(Schema):
    unit = ma.fields.Nested(RosterUnitSchema)
    roster_id = ma.fields.Integer(allow_none=True, metadata={"description": "its draft, if any"})
    overdue = ma.fields.Boolean()


class PeriodCheckSchema(_CheckFields):
    name = ma.fields.String()
    checked_at = ma.fields.DateTime()
    starts_at = ma.fields.DateTime()
    ends_at = ma.fields.DateTime()
    deadline = ma.fields.DateTime()
    units = ma.fields.List(ma.fields.Nested(UnitCheckSchema))
    not_submitted = ma.fields.List(ma.fields.Nested(NotSubmittedSchema))
    reminders = ma.fields.List(
        ma.fields.Nested(RosterUnitSchema),
        metadata={"description": "not submitted, the deadline within 24 hours: the units to remind"},
    )


# ---- who is on duty -----------------------------------------------------------------------------------------------


class OnDutyArgs(Schema):
    at = Instant(metadata={"description": "the instant (default now)"})
    township_id = id_field(metadata={"description": "this township only"})
    department_id = id_field(metadata={"description": "this department only"})


class OnDutyHereArgs(Schema):
    lon = ma.fields.Float(required=True, validate=ma.validate.Range(-180, 180), metadata={"example": 113.0})
    lat = ma.fields.Float(required=True, validate=ma.validate.Range(-90, 90), metadata={"example": 28.0})
    coord_system = ma.fields.Enum(
        CoordSystem,
        by_value=True,
        load_default=CoordSystem.WGS84,
        metadata={"description": "wgs84 (GPS), gcj02 (Amap, Tencent) or bd09 (Baidu)"},
    )
    at = Instant(metadata={"description": "the instant (default now)"})


class OnDutyShiftSchema(ShiftOutSchema):
    roster_id = ma.fields.Integer()
    period_id = ma.fields.Integer()


class UnitDutySchema(Schema):
    unit = ma.fields.Nested(RosterUnitSchema)
    covered = ma.fields.Boolean(metadata={"description": "somebody is on duty (false: a gap, or no roster)"})
    shifts = ma.fields.List(ma.fields.Nested(OnDutyShiftSchema), metadata={"description": "holding the instant"})


class DeskSchema(Schema):
    period_id = ma.fields.Integer()
    phone = ma.fields.String(allow_none=True, metadata={"description": "the county office's duty desk"})
    duty = ma.fields.Nested(UnitDutySchema, allow_none=True, metadata={"description": "who staffs it"})


class PeriodRefSchema(Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()


class OnDutySchema(Schema):
    at = ma.fields.DateTime()
    periods = ma.fields.List(ma.fields.Nested(PeriodRefSchema), metadata={"description": "holding the instant"})
    units = ma.fields.List(ma.fields.Nested(UnitDutySchema))
    desk = ma.fields.Nested(DeskSchema, allow_none=True)


class TownshipRefSchema(Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()


class PositionOutSchema(Schema):
    lon = ma.fields.Float()
    lat = ma.fields.Float()
    coord_system = ma.fields.String(metadata={"example": "wgs84"})


class OnDutyHereSchema(Schema):
    at = ma.fields.DateTime()
    position = ma.fields.Nested(PositionOutSchema, metadata={"description": "the point, in WGS-84"})
    township = ma.fields.Nested(TownshipRefSchema, allow_none=True, metadata={"description": "holding the point"})
    periods = ma.fields.List(ma.fields.Nested(PeriodRefSchema))
    duty = ma.fields.Nested(UnitDutySchema, allow_none=True, metadata={"description": "the township's duty"})
    desk = ma.fields.Nested(DeskSchema, allow_none=True)

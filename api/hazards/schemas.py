"""Schemas of the hazard ledger: input is loaded by marshmallow, output only documented by it."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from api.departments.schemas import sector_code
from api.errors import coded
from api.extensions import Schema
from api.fields import Day, Instant, id_field, position_field, text_field
from api.pagination import CursorArgs, CursorMetaSchema
from api.territory.schemas import PointSchema
from models.hazards.counts import GROUPS
from models.hazards.model import Action, Kind, Severity, Source, Status

MAX_FUNDS_YUAN = 10**11  # a hundred billion yuan: beyond any rectification


def _enum(values: type, **kwargs: Any) -> ma.fields.Enum:
    return ma.fields.Enum(values, by_value=True, **kwargs)


class FiveImplementationsSchema(Schema):
    """五落实: responsibility (a person and a unit), measures, funds, deadline, contingency plan. Each part may be
    given by itself; a major hazard starts rectification only when all six fields are."""

    responsible_person = text_field(100, allow_none=True, example="张建军 (厂长)")
    responsible_unit = text_field(200, allow_none=True, example="某某化工有限公司")
    measures = text_field(2000, allow_none=True, example="停用2号储罐，更换泄漏阀门，增设可燃气体报警仪")
    funds_yuan = ma.fields.Float(
        allow_none=True,
        allow_nan=False,
        validate=ma.validate.Range(0, MAX_FUNDS_YUAN, error=coded("invalid", f"funds in yuan: 0 to {MAX_FUNDS_YUAN}")),
        metadata={"example": 85000, "description": "yuan (资金落实), kept to the fen (two decimals)"},
    )
    deadline = Day(allow_none=True, metadata={"description": "the day the rectification is due, in the county"})
    contingency_plan = text_field(2000, allow_none=True, example="制定泄漏应急处置预案，配备应急物资")


class FiveImplementationsOutSchema(FiveImplementationsSchema):
    complete = ma.fields.Boolean(metadata={"description": "all six fields given"})
    missing = ma.fields.List(ma.fields.String(), metadata={"description": "the fields not yet given"})


class HazardSchema(Schema):
    id = ma.fields.Integer()
    number = ma.fields.String(metadata={"example": "430199101-2026-0007", "description": "township code-year-seq"})
    enterprise_id = ma.fields.Integer(allow_none=True)
    enterprise_name = ma.fields.String(allow_none=True)
    place_description = ma.fields.String(allow_none=True)
    description = ma.fields.String()
    kind = _enum(Kind, metadata={"description": "物的不安全状态 / 人的不安全行为 / 管理缺陷"})
    sector = ma.fields.String(metadata={"example": "hazardous_chemicals"})
    severity = _enum(Severity, metadata={"description": "general 一般 / major 重大"})
    source = _enum(Source)
    found_by = ma.fields.String(metadata={"description": "the finder, as signed"})
    found_by_user_id = ma.fields.Integer(allow_none=True)
    found_at = ma.fields.DateTime()
    location = ma.fields.Nested(PointSchema, metadata={"description": "GeoJSON Point, WGS-84"})
    cell_id = ma.fields.Integer(allow_none=True, metadata={"description": "derived from the location"})
    village_id = ma.fields.Integer(allow_none=True, metadata={"description": "derived from the location"})
    township_id = ma.fields.Integer(allow_none=True, metadata={"description": "derived from the location"})
    department_ids = ma.fields.List(ma.fields.Integer(), metadata={"description": "departments whose staff see it"})
    status = _enum(Status)
    deadline = ma.fields.Date(allow_none=True, metadata={"description": "整改期限, or the re-check deadline"})
    overdue = ma.fields.Boolean(metadata={"description": "open and past its deadline (a day in the county)"})
    responsible_person = ma.fields.String(allow_none=True, metadata={"description": "整改责任人"})
    five_implementations = ma.fields.Nested(FiveImplementationsOutSchema)
    rectified_by_user_id = ma.fields.Integer(allow_none=True, metadata={"description": "who signed the rectification"})
    rectified_at = ma.fields.DateTime(allow_none=True)
    closed_at = ma.fields.DateTime(allow_none=True, metadata={"description": "销号"})
    closed_on_time = ma.fields.Boolean(allow_none=True, metadata={"description": "closed by its deadline"})
    voided_at = ma.fields.DateTime(allow_none=True)
    next_actions = ma.fields.List(
        _enum(Action), metadata={"description": "the steps its state allows now (whoever may take them)"}
    )
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    version = ma.fields.Integer(metadata={"description": "the ETag is its quoted value"})


class HazardPageSchema(CursorMetaSchema):
    items = ma.fields.List(ma.fields.Nested(HazardSchema))


class HazardStepSchema(Schema):
    id = ma.fields.Integer()
    hazard_id = ma.fields.Integer()
    action = _enum(Action)
    from_status = _enum(Status, allow_none=True, metadata={"description": "null for the report"})
    to_status = _enum(Status)
    signer_user_id = ma.fields.Integer(allow_none=True)
    signer = ma.fields.String(metadata={"description": "the signer's name at the time"})
    signer_role = ma.fields.String()
    signed_at = ma.fields.DateTime()
    comment = ma.fields.String(allow_none=True)
    details = ma.fields.Dict(metadata={"description": "what the step set: deadline, rectifier, the plan..."})


class HazardStepsSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(HazardStepSchema), metadata={"description": "oldest first"})


class HazardReportSchema(Schema):
    description = text_field(2000, required=True, example="2号储罐区可燃气体报警仪失效")
    kind = _enum(Kind, required=True)
    severity = _enum(Severity, required=True)
    source = _enum(Source, required=True)
    enterprise_id = id_field(metadata={"description": "where it was found (in your scope); or give place_description"})
    place_description = text_field(200, example="G107国道青山桥下", description="where, away from any enterprise")
    sector = sector_code("default: the enterprise's")
    position = position_field()  # default: the enterprise's location
    found_at = Instant(metadata={"description": "default: now; never in the future"})
    comment = text_field(2000, example="现场检查发现")


class StartRectificationSchema(Schema):
    deadline = Day(required=True, metadata={"description": "整改期限: today or later, in the county"})
    responsible_person = text_field(100, required=True, example="李厂长")
    comment = text_field(2000, example="下达整改通知，限期整改")


class RectifiedSchema(Schema):
    rectifier = text_field(100, required=True, example="李厂长", description="who did the work (整改人)")
    comment = text_field(2000, required=True, example="已更换报警仪并校验合格")


class AcceptSchema(Schema):
    comment = text_field(2000, required=True, example="复核合格，同意销号")


class RejectSchema(Schema):
    comment = text_field(2000, required=True, example="报警仪未校验", description="why it is not accepted")
    deadline = Day(required=True, metadata={"description": "the re-check deadline (复查): today or later"})


class VoidSchema(Schema):
    comment = text_field(2000, required=True, example="重复录入", description="why it is voided")


class HazardPlanSchema(FiveImplementationsSchema):
    comment = text_field(2000, example="五落实方案经企业主要负责人签字")


class HazardListArgs(CursorArgs):
    status = _enum(Status)
    severity = _enum(Severity)
    source = _enum(Source)
    kind = _enum(Kind)
    sector = sector_code()
    enterprise_id = id_field()
    township_id = id_field()
    village_id = id_field()
    cell_id = id_field()
    department_id = id_field(metadata={"description": "seen by this department"})
    number = ma.fields.String(validate=ma.validate.Length(min=1, max=30), metadata={"example": "430199101-2026-0007"})
    overdue = ma.fields.Boolean(metadata={"description": "true: open and past its deadline; false: the others"})
    found_from = Instant(metadata={"description": "found at or after"})
    found_before = Instant(metadata={"description": "found before"})
    format = ma.fields.String(
        validate=ma.validate.OneOf(["json", "geojson"]),
        metadata={"description": "geojson: a FeatureCollection (or send Accept: application/geo+json)"},
    )


# ---- counts --------------------------------------------------------------------------------------------------------


class CountsArgs(Schema):
    group_by = ma.fields.String(
        load_default="township",
        validate=ma.validate.OneOf(list(GROUPS)),
        metadata={"enum": list(GROUPS), "description": "the rows: one per township (default), village, cell, "
                  "department or sector"},
    )  # fmt: skip
    from_ = Day(required=True, data_key="from", metadata={"description": "the period's first day, in the county"})
    to = Day(required=True, metadata={"description": "the period's last day (included), in the county"})

    @ma.validates_schema
    def _in_order(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if "from_" in data and "to" in data and data["from_"] > data["to"]:
            raise ma.ValidationError(coded("period-inverted", "from is on or before to"), "to")


class FiguresSchema(Schema):
    found = ma.fields.Integer(metadata={"description": "found in the period"})
    closed = ma.fields.Integer(metadata={"description": "of those, closed (销号) by the period's end"})
    open = ma.fields.Integer(metadata={"description": "of those, not closed by the period's end"})
    overdue = ma.fields.Integer(metadata={"description": "of the open ones, past their deadline at the period's end"})
    closed_on_time = ma.fields.Integer(metadata={"description": "of the closed ones, closed by their deadline"})
    rectification_rate = ma.fields.Float(allow_none=True, metadata={"description": "closed / found (整改率)"})
    on_time_rate = ma.fields.Float(allow_none=True, metadata={"description": "closed_on_time / closed"})


class CountsGroupSchema(Schema):
    township_id = ma.fields.Integer(allow_none=True)
    village_id = ma.fields.Integer(allow_none=True)
    cell_id = ma.fields.Integer(allow_none=True)
    department_id = ma.fields.Integer(allow_none=True)
    sector = ma.fields.String(allow_none=True)
    code = ma.fields.String(allow_none=True, metadata={"description": "the unit's code (null: no unit)"})
    name = ma.fields.String(allow_none=True)
    general = ma.fields.Nested(FiguresSchema)
    major = ma.fields.Nested(FiguresSchema)
    all = ma.fields.Nested(FiguresSchema)


class CountsSchema(Schema):
    group_by = ma.fields.String()
    start = ma.fields.DateTime(metadata={"description": "the period's first instant"})
    end = ma.fields.DateTime(metadata={"description": "the instant after the period"})
    items = ma.fields.List(ma.fields.Nested(CountsGroupSchema))
    total = ma.fields.Nested(CountsGroupSchema, metadata={"description": "the caller's whole scope"})

"""Schemas of the hazard ledger: input is loaded by marshmallow, output only documented by it."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest.fields import Upload

from api.departments.schemas import sector_code
from api.errors import coded
from api.extensions import PatchSchema, Schema
from api.fields import (
    Day,
    Instant,
    bbox_field,
    id_field,
    position_field,
    text_field,
)
from api.geo_schemas import (
    MAP_PAGE_CAP,
    NearbyFeaturesBase,
    RadiusArgs,
    format_field,
    position_out,
    truncated_out,
)
from api.pagination import CursorArgs, CursorMetaSchema, PageSize
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
    referred_department_id = ma.fields.Integer(allow_none=True, metadata={"description": "移交: referred to"})
    referral_status = ma.fields.String(
        allow_none=True, metadata={"enum": ["pending", "accepted", "returned", None], "description": "the referral"}
    )
    interim_measures = ma.fields.String(allow_none=True, metadata={"description": "临时性保障措施, the latest"})
    extension_deadline = ma.fields.Date(
        allow_none=True, metadata={"description": "a pending extension request's new deadline"}
    )
    listed_level = ma.fields.String(
        allow_none=True, metadata={"enum": ["county", "city", "province", None], "description": "挂牌督办 by"}
    )
    listed_by = ma.fields.String(allow_none=True, metadata={"description": "the supervising body"})
    listed_document = ma.fields.String(allow_none=True, metadata={"description": "its document number"})
    listed_on = ma.fields.Date(allow_none=True)
    listing_lifted_at = ma.fields.DateTime(allow_none=True, metadata={"description": "lifted when the hazard closed"})
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


class HazardPatchSchema(PatchSchema):
    description = text_field(2000, example="2号储罐区可燃气体报警仪失效")
    kind = _enum(Kind)
    severity = _enum(Severity)
    source = _enum(Source)
    sector = sector_code()
    place_description = text_field(200, allow_none=True, example="G107国道青山桥下")
    position = position_field()


class StartRectificationSchema(Schema):
    deadline = Day(required=True, metadata={"description": "整改期限: today or later, in the county"})
    responsible_person = text_field(100, required=True, example="李厂长")
    comment = text_field(2000, example="下达整改通知，限期整改")


def photo_ids(description: str) -> ma.fields.List:
    return ma.fields.List(
        id_field(),
        validate=ma.validate.Length(max=20, error=coded("invalid", "at most 20 photos")),
        metadata={"maxItems": 20, "description": description},
    )


class RectifiedSchema(Schema):
    rectifier = text_field(100, required=True, example="李厂长", description="who did the work (整改人)")
    comment = text_field(2000, required=True, example="已更换报警仪并校验合格")
    photo_ids = photo_ids("photos of the hazard (uploaded before) the step rests on; on the spot, at least one")


class AcceptSchema(Schema):
    comment = text_field(2000, required=True, example="复核合格，同意销号")
    photo_ids = photo_ids("photos of the hazard (uploaded before) the acceptance rests on")


class RejectSchema(Schema):
    comment = text_field(2000, required=True, example="报警仪未校验", description="why it is not accepted")
    deadline = Day(required=True, metadata={"description": "the re-check deadline (复查): today or later"})
    photo_ids = photo_ids("photos of the hazard (uploaded before) the refusal rests on")


class VoidSchema(Schema):
    comment = text_field(2000, required=True, example="重复录入", description="why it is voided")


class HazardPlanSchema(FiveImplementationsSchema):
    comment = text_field(2000, example="五落实方案经企业主要负责人签字")


class HazardFilterArgs(Schema):
    """The filters of every hazard question."""

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
    listed = ma.fields.Boolean(metadata={"description": "true: under listed supervision (挂牌督办), now or before"})
    referred_department_id = id_field(metadata={"description": "referred (移交) to this department"})
    found_from = Instant(metadata={"description": "found at or after"})
    found_before = Instant(metadata={"description": "found before"})


class HazardListArgs(CursorArgs, HazardFilterArgs):
    format = ma.fields.String(
        validate=ma.validate.OneOf(["json", "geojson"]),
        metadata={"description": "geojson: a FeatureCollection (or send Accept: application/geo+json)"},
    )


class LedgerArgs(HazardFilterArgs):
    format = ma.fields.String(
        load_default="xlsx",
        validate=ma.validate.OneOf(["xlsx", "csv"]),
        metadata={"enum": ["xlsx", "csv"], "description": "xlsx (default: the ledger, and the major hazards on a "
                  "second sheet) or csv (UTF-8 with BOM: the ledger)"},
    )  # fmt: skip


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


class DocumentFiguresSchema(Schema):
    rectification_order = ma.fields.Integer(metadata={"description": "rectification orders issued (整改指令书)"})
    suspension_order = ma.fields.Integer(metadata={"description": "suspensions ordered (责令停产停业整顿)"})
    resumption_acceptance = ma.fields.Integer(metadata={"description": "resumptions accepted (复工验收)"})
    closure = ma.fields.Integer(metadata={"description": "closures (关闭取缔)"})


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
    documents = ma.fields.Nested(
        DocumentFiguresSchema, metadata={"description": "enforcement documents issued in the period, by kind"}
    )


class CountsSchema(Schema):
    group_by = ma.fields.String()
    start = ma.fields.DateTime(metadata={"description": "the period's first instant"})
    end = ma.fields.DateTime(metadata={"description": "the instant after the period"})
    items = ma.fields.List(ma.fields.Nested(CountsGroupSchema))
    total = ma.fields.Nested(CountsGroupSchema, metadata={"description": "the caller's whole scope"})


# ---- the steps beside the states -----------------------------------------------------------------------------------


class ReferSchema(Schema):
    department_id = id_field(metadata={"description": "default: the department supervising its enterprise or sector"})
    comment = text_field(2000, required=True, example="涉及危化品储存，移交县应急管理局依法处理", description="why")


class ReferralAnswerSchema(Schema):
    comment = text_field(2000, required=True, example="已接收，安排执法人员现场核查")


class InterimMeasuresSchema(Schema):
    measures = text_field(2000, required=True, example="设置警戒区，停用2号储罐，专人24小时值守")


class ExtensionRequestSchema(Schema):
    deadline = Day(required=True, metadata={"description": "the new deadline asked for: later than the present one"})
    comment = text_field(2000, required=True, example="更换阀门需厂家供货，申请延期15天", description="why")


class ExtensionAnswerSchema(Schema):
    comment = text_field(2000, required=True, example="同意延期")


class ListingSchema(Schema):
    level = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(["county", "city", "province"]),
        metadata={"enum": ["county", "city", "province"], "description": "挂牌督办 by the county, city or province"},
    )
    body = text_field(100, required=True, example="县安全生产委员会", description="the supervising body")
    document_number = text_field(60, required=True, example="县安委〔2026〕3号")
    listed_on = Day(required=True, metadata={"description": "today or earlier"})
    comment = text_field(2000, example="列为县级挂牌督办重大隐患")


class SupervisionVisitSchema(Schema):
    visited_on = Day(required=True, metadata={"description": "today or earlier"})
    visited_by = text_field(200, required=True, example="县安委办 张主任、县应急管理局 李科长")
    findings = text_field(2000, required=True, example="整改措施落实到位，临时管控有效")


# ---- photos --------------------------------------------------------------------------------------------------------


class PhotoUploadSchema(Schema):
    file = Upload(required=True, metadata={"description": "a JPEG, PNG, WebP or HEIC image"})


class PhotoSchema(Schema):
    id = ma.fields.Integer()
    hazard_id = ma.fields.Integer()
    step_id = ma.fields.Integer(allow_none=True, metadata={"description": "the step that rests on it, if any yet"})
    content_type = ma.fields.String(metadata={"example": "image/jpeg"})
    size = ma.fields.Integer(metadata={"description": "bytes"})
    sha256 = ma.fields.String()
    uploaded_by_user_id = ma.fields.Integer(allow_none=True)
    uploaded_at = ma.fields.DateTime()


class PhotosSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(PhotoSchema), metadata={"description": "oldest first"})


# ---- by place --------------------------------------------------------------------------------------------------------


class HazardsWithinRadiusArgs(RadiusArgs, HazardFilterArgs):
    format = format_field()


class HazardsInBoxArgs(CursorArgs, HazardFilterArgs):
    bbox = bbox_field()
    page_size = PageSize(cap=MAP_PAGE_CAP)
    format = format_field()


class HazardWithDistanceSchema(HazardSchema):
    distance_m = ma.fields.Float(metadata={"description": "geodesic metres from the point asked about"})


class HazardsNearbySchema(Schema):
    items = ma.fields.List(ma.fields.Nested(HazardWithDistanceSchema), metadata={"description": "nearest first"})
    position = position_out()
    truncated = truncated_out()


class HazardsNearbyFeaturesSchema(NearbyFeaturesBase):
    """The hazards near a point as a GeoJSON FeatureCollection, nearest first."""

"""Schemas of enterprises: input is loaded by marshmallow, output only documented by it."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from api.departments.schemas import sector_code
from api.errors import coded
from api.extensions import PatchSchema, Schema
from api.fields import (
    Day,
    ReferenceGeometry,
    bbox_field,
    id_field,
    phone_field,
    position_field,
    text_field,
)
from api.geo_schemas import (
    MAP_PAGE_CAP,
    MAX_RADIUS_M,
    AtPointArgs,
    NearbyFeaturesBase,
    RadiusArgs,
    position_out,
    truncated_out,
)
from api.pagination import CursorArgs, CursorMetaSchema, PageSize
from api.territory.schemas import PointSchema
from models.enterprises.credit_code import PATTERN, credit_code_problem
from models.enterprises.model import KeyLevel, RiskLevel, Scale, Status

WRITABLE_STATUSES = [s.value for s in Status if s is not Status.CLOSED]


def _credit_code_check(value: str) -> None:
    problem = credit_code_problem(value)
    if problem is None:
        return
    kind, message = problem
    if kind == "credit-code-check":
        raise ma.ValidationError(coded("credit-code-check", message))
    raise ma.ValidationError(coded("credit-code-format", message))


def credit_code_field(**kwargs: Any) -> ma.fields.String:
    """A unified social credit code (GB 32100-2015), its check character verified."""
    return ma.fields.String(
        validate=[
            ma.validate.Regexp(
                PATTERN,
                error=coded("credit-code-format", "18 characters: digits and capital letters except I, O, S, V, Z"),
            ),
            _credit_code_check,
        ],
        metadata={
            "example": "91110108551385082Q",
            "description": "unified social credit code (统一社会信用代码, GB 32100-2015); the 18th character is a "
            "check character, verified",
        },
        **kwargs,
    )


def _enum(values: type, **kwargs: Any) -> ma.fields.Enum:
    return ma.fields.Enum(values, by_value=True, **kwargs)


class EnterpriseSchema(Schema):
    id = ma.fields.Integer()
    name = ma.fields.String(metadata={"example": "长沙某某化工有限公司"})
    credit_code = ma.fields.String(metadata={"example": "91110108551385082Q"})
    sector = ma.fields.String(metadata={"example": "hazardous_chemicals"})
    department_ids = ma.fields.List(ma.fields.Integer(), metadata={"description": "supervising departments"})
    departments_set = ma.fields.Boolean(
        metadata={"description": "false: the departments follow the sector; true: set by hand"}
    )
    risk_level = _enum(RiskLevel, metadata={"description": "red 重大, orange 较大, yellow 一般, blue 低"})
    major_hazard_grade = ma.fields.Integer(allow_none=True, metadata={"description": "重大危险源 grade 1-4, or null"})
    key_level = _enum(KeyLevel, metadata={"description": "key enterprise (重点企业) designated by which level"})
    scale = _enum(Scale, allow_none=True, metadata={"description": "规上 / 中小 / 小微"})
    status = _enum(Status)
    licence_number = ma.fields.String(allow_none=True)
    licence_expires_on = ma.fields.Date(allow_none=True)
    legal_representative = ma.fields.String(allow_none=True)
    safety_manager = ma.fields.String(allow_none=True)
    duty_phone = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    location = ma.fields.Nested(PointSchema, metadata={"description": "GeoJSON Point, WGS-84"})
    cell_id = ma.fields.Integer(allow_none=True, metadata={"description": "derived from the location"})
    village_id = ma.fields.Integer(allow_none=True, metadata={"description": "derived from the location"})
    township_id = ma.fields.Integer(allow_none=True, metadata={"description": "derived from the location"})
    unassigned = ma.fields.Boolean(metadata={"description": "true: the location lies in no active grid cell"})
    liaison_leader = ma.fields.String(allow_none=True, metadata={"description": "包联: the county leader"})
    liaison_department_id = ma.fields.Integer(allow_none=True, metadata={"description": "包联: the department"})
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    closed_at = ma.fields.DateTime(allow_none=True)
    close_reason = ma.fields.String(allow_none=True)
    version = ma.fields.Integer(metadata={"description": "the ETag is its quoted value"})
    distance_m = ma.fields.Float(metadata={"description": "spatial questions by a point: metres from it"})


class EnterprisePageSchema(CursorMetaSchema):
    items = ma.fields.List(ma.fields.Nested(EnterpriseSchema))


class _EnterpriseFields(Schema):
    """What a create and a change share."""

    major_hazard_grade = ma.fields.Integer(
        allow_none=True,
        validate=ma.validate.Range(1, 4, error=coded("invalid", "a major hazard source is of grade 1 to 4")),
        metadata={"description": "重大危险源 grade 1-4 (GB 18218), or null"},
    )
    scale = _enum(Scale, allow_none=True)
    licence_number = text_field(50, allow_none=True, example="(湘)WH安许证字[2024]000123")
    licence_expires_on = Day(allow_none=True)
    legal_representative = text_field(50, allow_none=True, example="王建国")
    safety_manager = text_field(50, allow_none=True, example="李安全")
    duty_phone = phone_field(allow_none=True)
    address = text_field(200, allow_none=True, example="青山镇工业园1号")
    liaison_leader = text_field(100, allow_none=True, example="副县长 张明", description="包联: the county leader")
    liaison_department_id = id_field(allow_none=True, metadata={"description": "包联: the department"})


def _department_ids(description: str, **kwargs: Any) -> ma.fields.List:
    return ma.fields.List(
        id_field(),
        validate=ma.validate.Length(max=20, error=coded("invalid", "at most 20 departments")),
        metadata={"maxItems": 20, "description": description},
        **kwargs,
    )


class EnterpriseCreateSchema(_EnterpriseFields):
    name = text_field(200, required=True, example="长沙某某化工有限公司")
    credit_code = credit_code_field(required=True)
    sector = sector_code(required=True)
    position = position_field(required=True)
    department_ids = _department_ids("set the supervising departments by hand (default: those of the sector)")
    risk_level = _enum(RiskLevel, load_default=RiskLevel.BLUE)
    key_level = _enum(KeyLevel, load_default=KeyLevel.NONE)
    status = ma.fields.String(
        load_default=Status.OPERATING.value,
        validate=ma.validate.OneOf(WRITABLE_STATUSES, error=coded("invalid", "operating, suspended or seasonal_stop")),
        metadata={"enum": WRITABLE_STATUSES, "description": "closed is set by closing the record"},
    )


class EnterprisePatchSchema(PatchSchema, _EnterpriseFields):
    name = text_field(200)
    credit_code = credit_code_field()
    sector = sector_code()
    position = position_field()
    department_ids = _department_ids("a list: set by hand; null: follow the sector again", allow_none=True)
    risk_level = _enum(RiskLevel)
    key_level = _enum(KeyLevel)
    status = ma.fields.String(
        validate=ma.validate.OneOf(WRITABLE_STATUSES, error=coded("invalid", "operating, suspended or seasonal_stop")),
        metadata={"enum": WRITABLE_STATUSES, "description": "closed is set by closing the record"},
    )


class EnterpriseCloseSchema(Schema):
    reason = text_field(500, required=True, example="已注销营业执照")


class EnterpriseFilterArgs(Schema):
    """The filters every enterprise question offers."""

    township_id = id_field()
    village_id = id_field()
    cell_id = id_field()
    sector = sector_code()
    department_id = id_field(metadata={"description": "supervised by this department"})
    risk_level = _enum(RiskLevel)
    major_hazard = ma.fields.Boolean(metadata={"description": "true: with a major hazard source; false: without"})
    key_level = _enum(KeyLevel)
    status = _enum(Status)
    licence_expires_before = Day(metadata={"description": "the licence expires before this day"})
    unassigned = ma.fields.Boolean(metadata={"description": "true: in no active grid cell (a to-do list)"})
    include_closed = ma.fields.Boolean(load_default=False)
    format = ma.fields.String(
        validate=ma.validate.OneOf(["json", "geojson"]),
        metadata={"description": "geojson: a FeatureCollection (or send Accept: application/geo+json)"},
    )


class EnterpriseListArgs(CursorArgs, EnterpriseFilterArgs):
    name = ma.fields.String(
        validate=ma.validate.Length(min=1, max=200), metadata={"description": "part of the name, case-insensitive"}
    )
    credit_code = ma.fields.String(
        validate=ma.validate.Regexp(PATTERN, error=coded("credit-code-format", "18 characters"))
    )


# ---- the spatial questions --------------------------------------------------------------------------------------


class _AtPoint(AtPointArgs, EnterpriseFilterArgs):
    pass


class WithinRadiusArgs(RadiusArgs, EnterpriseFilterArgs):
    pass


class NearestArgs(_AtPoint):
    n = ma.fields.Integer(
        load_default=10,
        validate=ma.validate.Range(1, 100, error=coded("invalid", "n: 1 to 100")),
        metadata={"description": "how many (default 10, at most 100)"},
    )


class InBoxArgs(CursorArgs, EnterpriseFilterArgs):
    bbox = bbox_field()
    page_size = PageSize(cap=MAP_PAGE_CAP)


class NearGeometryArgs(CursorArgs, EnterpriseFilterArgs):
    page_size = PageSize(cap=MAP_PAGE_CAP)


class NearGeometrySchema(Schema):
    geometry = ReferenceGeometry(required=True)
    distance_m = ma.fields.Float(
        required=True,
        allow_nan=False,
        validate=ma.validate.Range(
            0, MAX_RADIUS_M, error=coded("radius-out-of-range", f"distance_m: 0 to {MAX_RADIUS_M} metres")
        ),
        metadata={
            "example": 500,
            "description": f"geodesic metres from any part of the geometry, at most {MAX_RADIUS_M}",
        },
    )


class NearbyAnswerSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(EnterpriseSchema), metadata={"description": "nearest first"})
    position = position_out()
    truncated = truncated_out()


class NearbyFeatureCollectionSchema(NearbyFeaturesBase):
    """The enterprises near a point as a GeoJSON FeatureCollection, nearest first."""

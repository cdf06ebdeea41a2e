"""Schemas of sectors and departments: input is loaded by marshmallow, output only documented by it."""

from __future__ import annotations

import marshmallow as ma

from api.errors import coded
from api.extensions import PatchSchema, Schema
from api.fields import phone_field, text_field
from api.pagination import CursorArgs, CursorMetaSchema

SECTOR_CODE_PATTERN = r"\A[a-z][a-z0-9_]{1,39}\Z"
DEPARTMENT_CODE_PATTERN = r"\A[A-Z][A-Z0-9_-]{1,19}\Z"


def sector_code(description: str = "", **kwargs: object) -> ma.fields.String:
    """A sector's code (see GET /api/v1/sectors)."""
    return ma.fields.String(
        validate=ma.validate.Regexp(
            SECTOR_CODE_PATTERN,
            error=coded("sector-code-format", "2 to 40 lower-case letters, digits or underscores, from a letter"),
        ),
        metadata={"example": "hazardous_chemicals"} | ({"description": description} if description else {}),
        **kwargs,
    )


def _department_code(**kwargs: object) -> ma.fields.String:
    return ma.fields.String(
        validate=ma.validate.Regexp(
            DEPARTMENT_CODE_PATTERN,
            error=coded("department-code-format", "2 to 20 capital letters, digits, dashes or underscores"),
        ),
        metadata={"example": "YJJ"},
        **kwargs,
    )


def _sector_list(**kwargs: object) -> ma.fields.List:
    return ma.fields.List(
        sector_code(),
        validate=ma.validate.Length(max=30, error=coded("too-many-sectors", "at most 30 sectors")),
        metadata={"description": "codes of the sectors it supervises (GET /api/v1/sectors)", "maxItems": 30},
        **kwargs,
    )


class SectorSchema(Schema):
    code = ma.fields.String(metadata={"example": "hazardous_chemicals"})
    name = ma.fields.String(metadata={"example": "危险化学品"})
    name_en = ma.fields.String(metadata={"example": "hazardous chemicals"})
    department_ids = ma.fields.List(
        ma.fields.Integer(), metadata={"description": "the active departments that supervise it"}
    )


class SectorListSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(SectorSchema))


class SectorCreateSchema(Schema):
    code = sector_code(required=True)
    name = text_field(50, required=True, example="粉尘涉爆", description="the name in Chinese")
    name_en = text_field(200, required=True, example="combustible dust", description="the name in English")


class DepartmentSchema(Schema):
    id = ma.fields.Integer()
    code = ma.fields.String(metadata={"example": "YJJ"})
    name = ma.fields.String(metadata={"example": "县应急管理局"})
    duty_phone = ma.fields.String(allow_none=True, metadata={"example": "0731-55551234"})
    sectors = ma.fields.List(ma.fields.String(), metadata={"example": ["hazardous_chemicals", "fireworks"]})
    active = ma.fields.Boolean()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    retired_at = ma.fields.DateTime(allow_none=True)
    version = ma.fields.Integer(metadata={"description": "the ETag is its quoted value"})


class DepartmentPageSchema(CursorMetaSchema):
    items = ma.fields.List(ma.fields.Nested(DepartmentSchema))


class DepartmentCreateSchema(Schema):
    code = _department_code(required=True)
    name = text_field(100, required=True, example="县应急管理局")
    duty_phone = phone_field(allow_none=True)
    sectors = _sector_list(load_default=list)


class DepartmentPatchSchema(PatchSchema):
    code = _department_code()
    name = text_field(100)
    duty_phone = phone_field(allow_none=True)
    sectors = _sector_list()


class DepartmentListArgs(CursorArgs):
    sector = sector_code("only the departments that supervise this sector")
    name = ma.fields.String(
        validate=ma.validate.Length(max=100), metadata={"description": "part of the name, case-sensitive"}
    )
    include_retired = ma.fields.Boolean(load_default=False)

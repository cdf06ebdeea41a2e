"""Schemas of officers, grid assignments and teams: input is loaded by marshmallow, output only documented by it."""

from __future__ import annotations

from typing import Any, ClassVar

import marshmallow as ma

from api.errors import coded
from api.extensions import PatchSchema, Schema
from api.fields import Instant, Mobile, id_field, text_field
from api.pagination import CursorArgs, CursorMetaSchema
from models.people import AssignmentRole

# ---- officers ---------------------------------------------------------------------------------------------------


class OfficerSchema(Schema):
    id = ma.fields.Integer()
    name = ma.fields.String(metadata={"example": "张伟"})
    mobile = ma.fields.String(metadata={"example": "13800138000"})
    township_id = ma.fields.Integer()
    title = ma.fields.String(allow_none=True, metadata={"example": "网格员"})
    active = ma.fields.Boolean()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    deactivated_at = ma.fields.DateTime(allow_none=True)
    version = ma.fields.Integer(metadata={"description": "the ETag is its quoted value"})


class OfficerPageSchema(CursorMetaSchema):
    items = ma.fields.List(ma.fields.Nested(OfficerSchema))


class OfficerCreateSchema(Schema):
    name = text_field(50, required=True, example="张伟")
    mobile = Mobile(required=True)
    township_id = id_field(
        metadata={"description": "the officer's township; a township leader may leave it out (their own)"}
    )
    title = text_field(50, allow_none=True, example="网格员", description="job title, free text")


class OfficerPatchSchema(PatchSchema):
    name = text_field(50)
    mobile = Mobile()
    title = text_field(50, allow_none=True)
    township_id = id_field(
        metadata={"description": "move to another township (county administrators; no current cells)"}
    )


class OfficerDeactivateSchema(Schema):
    reason = text_field(500, example="调离本乡镇")


class OfficerListArgs(CursorArgs):
    township_id = id_field()
    name = ma.fields.String(metadata={"description": "part of the name, case-insensitive"})
    mobile = ma.fields.String(
        validate=ma.validate.Regexp(r"\A[0-9]{1,11}\Z", error=coded("mobile-format", "1 to 11 digits")),
        metadata={"description": "mobile number prefix"},
    )
    include_inactive = ma.fields.Boolean(load_default=False)


class AtArgs(Schema):
    at = Instant(metadata={"description": "a past instant (default: now)"})


# ---- assignments ------------------------------------------------------------------------------------------------


class OfficerRefSchema(Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    mobile = ma.fields.String()
    title = ma.fields.String(allow_none=True)


class AssignmentSchema(Schema):
    id = ma.fields.Integer()
    cell_id = ma.fields.Integer()
    cell_code = ma.fields.String()
    cell_name = ma.fields.String()
    village_id = ma.fields.Integer()
    township_id = ma.fields.Integer()
    officer = ma.fields.Nested(OfficerRefSchema)
    role = ma.fields.Enum(AssignmentRole, by_value=True, metadata={"description": "owner (网格长) or member (网格员)"})
    valid_from = ma.fields.DateTime(metadata={"description": "responsible from this instant (inclusive)"})
    valid_to = ma.fields.DateTime(
        allow_none=True, metadata={"description": "until this instant (exclusive); null: now"}
    )
    current = ma.fields.Boolean(metadata={"description": "in force now (not ended, not superseded)"})
    reason = ma.fields.String()
    assigned_by_id = ma.fields.Integer(allow_none=True, metadata={"description": "user id; null: the system"})
    created_at = ma.fields.DateTime(metadata={"description": "when the assignment was recorded"})
    ended_at = ma.fields.DateTime(allow_none=True, metadata={"description": "when the end was recorded"})
    ended_by_id = ma.fields.Integer(allow_none=True)
    end_reason = ma.fields.String(allow_none=True)
    corrects_id = ma.fields.Integer(allow_none=True, metadata={"description": "the entry this one corrects"})
    correction_reason = ma.fields.String(allow_none=True)
    superseded_at = ma.fields.DateTime(allow_none=True, metadata={"description": "set when a correction replaced it"})
    superseded_by_id = ma.fields.Integer(allow_none=True, metadata={"description": "user who corrected it"})
    superseded_by_assignment_id = ma.fields.Integer(allow_none=True, metadata={"description": "the correction"})
    version = ma.fields.Integer(metadata={"description": "the ETag is its quoted value"})


class AssignmentCreatedSchema(AssignmentSchema):
    ended_assignment_ids = ma.fields.List(
        ma.fields.Integer(), metadata={"description": "assignments this one ended (the previous owner's)"}
    )


class AssignmentPageSchema(CursorMetaSchema):
    items = ma.fields.List(ma.fields.Nested(AssignmentSchema))


class AssignmentCreateSchema(Schema):
    officer_id = id_field(required=True)
    role = ma.fields.Enum(AssignmentRole, by_value=True, required=True)
    reason = text_field(500, required=True, example="村两委会议决定")
    valid_from = Instant(metadata={"description": "when the responsibility starts: now (default) or in the past"})


class AssignmentEndSchema(Schema):
    reason = text_field(500, required=True, example="调岗")
    valid_to = Instant(metadata={"description": "when the responsibility ends: now (default) or in the past"})


class AssignmentCorrectSchema(Schema):
    """The reason, and at least one thing to correct."""

    json_schema: ClassVar[dict[str, Any]] = {"minProperties": 2}  # `reason` and one more

    reason = text_field(500, required=True, example="录入错误：网格长应为李强")
    officer_id = id_field()
    role = ma.fields.Enum(AssignmentRole, by_value=True)
    valid_from = Instant()
    valid_to = Instant(allow_none=True, metadata={"description": "null: the assignment is still in force"})

    @ma.validates_schema
    def _something(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not set(data) - {"reason"}:
            raise ma.ValidationError(
                coded("empty-correction", "give at least one of officer_id, role, valid_from, valid_to")
            )


class AssignmentListArgs(CursorArgs):
    cell_id = id_field()
    officer_id = id_field()
    township_id = id_field()
    role = ma.fields.Enum(AssignmentRole, by_value=True)
    at = Instant(metadata={"description": "only assignments in force at this instant"})
    current = ma.fields.Boolean(metadata={"description": "true: in force now; false: ended or superseded"})
    include_superseded = ma.fields.Boolean(
        load_default=False, metadata={"description": "also the original entries that corrections replaced"}
    )


class CellRefSchema(Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    village_id = ma.fields.Integer()
    township_id = ma.fields.Integer()
    retired_at = ma.fields.DateTime(allow_none=True)


class TeamSchema(Schema):
    cell = ma.fields.Nested(CellRefSchema)
    at = ma.fields.DateTime(allow_none=True, metadata={"description": "the instant asked for; null: now"})
    owner = ma.fields.Nested(AssignmentSchema, allow_none=True, metadata={"description": "网格长, null when none"})
    members = ma.fields.List(ma.fields.Nested(AssignmentSchema), metadata={"description": "网格员"})
    etag = ma.fields.String(
        allow_none=True, metadata={"description": "the team's ETag (also the ETag header); null for a past instant"}
    )


class OfficerCellsSchema(Schema):
    officer_id = ma.fields.Integer()
    at = ma.fields.DateTime(allow_none=True)
    items = ma.fields.List(ma.fields.Nested(AssignmentSchema))

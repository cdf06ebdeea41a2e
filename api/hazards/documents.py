"""Enforcement documents over HTTP: thin views over `models.hazards.enforcement`."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import url_for
from flask.views import MethodView

from api.auth import current_caller
from api.db import db
from api.extensions import Blueprint, Schema
from api.fields import Day, id_field, text_field
from api.pagination import CursorArgs, CursorMetaSchema, list_answer, split_paging
from api.responses import json_response
from models.hazards.enforcement import ISSUERS, document_listing, document_row, issue_document
from models.hazards.model import DocumentKind
from models.roles import ALL_ROLES

documents = Blueprint(
    "enforcement-documents",
    __name__,
    url_prefix="/api/v1/enforcement-documents",
    description="Enforcement documents (执法文书): rectification orders, suspensions, resumption acceptances, closures",
)
READ_NOTE = (
    "Each within their scope: the county; a township, the documents issued to its enterprises; a grid officer, to "
    "the enterprises in their cells; department staff, those their department issued or that concern the "
    "enterprises it supervises. Anything else answers 404."
)


def _kind(**kwargs: Any) -> ma.fields.Enum:
    return ma.fields.Enum(DocumentKind, by_value=True, **kwargs)


class DocumentSchema(Schema):
    id = ma.fields.Integer()
    kind = _kind()
    number = ma.fields.String(metadata={"example": "(县应急)责改〔2026〕12号"})
    issued_on = ma.fields.Date()
    department_id = ma.fields.Integer()
    enterprise_id = ma.fields.Integer()
    cell_id = ma.fields.Integer(allow_none=True, metadata={"description": "the enterprise's, when issued"})
    village_id = ma.fields.Integer(allow_none=True)
    township_id = ma.fields.Integer(allow_none=True)
    hazard_ids = ma.fields.List(ma.fields.Integer())
    time_limit = ma.fields.Date(allow_none=True)
    content = ma.fields.String(allow_none=True)
    signer = ma.fields.String()
    recorded_by_user_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()


class DocumentPageSchema(CursorMetaSchema):
    items = ma.fields.List(ma.fields.Nested(DocumentSchema))


KINDS = (
    "rectification_order 整改指令书, suspension_order 责令停产停业整顿, "
    "resumption_acceptance 复工验收, closure 关闭取缔"
)


class DocumentCreateSchema(Schema):
    kind = _kind(required=True, metadata={"description": KINDS})
    number = text_field(
        60, required=True, example="(县应急)责改〔2026〕12号", description="文书编号, unique in the ledger"
    )
    issued_on = Day(required=True, metadata={"description": "today or earlier"})
    enterprise_id = id_field(required=True)
    department_id = id_field(metadata={"description": "the issuing department (department staff: their own)"})
    hazard_ids = ma.fields.List(
        id_field(),
        load_default=list,
        validate=ma.validate.Length(max=100),
        metadata={"maxItems": 100, "description": "the enterprise's hazards it concerns"},
    )
    time_limit = Day(metadata={"description": "a rectification order's time limit (required for one)"})
    content = text_field(4000, example="责令你单位于2026年12月20日前完成下列隐患整改……")
    signer = text_field(100, required=True, example="县应急管理局 王局长", description="who signed it")


class DocumentListArgs(CursorArgs):
    kind = _kind()
    enterprise_id = id_field()
    department_id = id_field()
    township_id = id_field()
    hazard_id = id_field(metadata={"description": "documents about this hazard"})
    issued_from = Day()
    issued_before = Day()


def document_response(document_id: int, status: int = 200) -> Any:
    """A document (never changed: no ETag), with its Location when just recorded."""
    row = document_row(db.session(), caller=current_caller(), document_id=document_id)
    headers = (
        {"Location": url_for("enforcement-documents.DocumentItem", document_id=document_id)} if status == 201 else {}
    )
    return json_response(row, status, headers=headers)


@documents.route("")
class Documents(MethodView):
    @documents.access(*ALL_ROLES, note=READ_NOTE)
    @documents.query(DocumentListArgs)
    @documents.response(200, DocumentPageSchema)
    def get(self, **arguments: Any) -> Any:
        """List enforcement documents

        In the caller's scope, newest recorded first, paged by cursor.
        """
        paging, filters = split_paging(arguments)
        return json_response(list_answer(document_listing(caller=current_caller(), **filters), paging))

    @documents.access(*sorted(ISSUERS), note="Department staff in their department's name, for the enterprises it "
                      "supervises; the county administrator in any department's name.")  # fmt: skip
    @documents.idempotent()
    @documents.arguments(DocumentCreateSchema)
    @documents.response(201, DocumentSchema)
    @documents.problem(409, "the number is taken; the enterprise is closed, not suspended, or has open major hazards")
    def post(self, data: dict[str, Any]) -> Any:
        """Record an enforcement document

        Its effect on the enterprise is applied in the same transaction: a suspension order suspends it; a
        resumption acceptance sets it operating again, only when it is suspended and has no open major hazard (409
        `open-major-hazards` with their numbers); a closure closes its record. The document is never changed or
        deleted.
        """
        document = issue_document(db.session(), caller=current_caller(), **data)
        return document_response(document.id, 201)


@documents.route("/<int:document_id>")
class DocumentItem(MethodView):
    @documents.access(*ALL_ROLES, note=READ_NOTE)
    @documents.response(200, DocumentSchema)
    @documents.problem(404, "no such document in your scope")
    def get(self, document_id: int) -> Any:
        """Get an enforcement document"""
        return document_response(document_id)

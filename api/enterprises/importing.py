"""Importing the county's enterprise ledger: the upload (`models.enterprises.importing`) and its template."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response
from flask.views import MethodView
from flask_smorest.fields import Upload

from api import content
from api.auth import current_caller
from api.db import db
from api.enterprises.resources import enterprises
from api.extensions import Schema
from api.responses import BINARY, CSV, XLSX, json_response
from models.enterprises.importing import OUTCOMES, import_enterprises
from models.enterprises.ledger import read_ledger, template_csv, template_xlsx
from models.roles import MANAGERS

MAX_BYTES = 10 * 2**20  # 10 MB: some 100,000 rows of CSV, far more than a county's ledger
MAX_ROWS = 50_000
IMPORT_NOTE = "A township leader: the enterprises of their own township (rows elsewhere are refused)."


class ImportFileSchema(Schema):
    file = Upload(
        required=True,
        metadata={
            "description": f"the ledger: .xlsx (its first sheet) or CSV (UTF-8, with or without BOM, or GB18030), "
            f"column names in row 1, at most {MAX_ROWS:,} rows and {MAX_BYTES // 2**20} MB"
        },
    )


class ImportArgs(Schema):
    dry_run = ma.fields.Boolean(
        load_default=False, metadata={"description": "true: write nothing, report what each row would do"}
    )
    all_or_nothing = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "true: when any row is refused, no row lands (default: the good rows land)"},
    )


class ImportErrorSchema(Schema):
    column = ma.fields.String(allow_none=True, metadata={"description": "the column's English name; null: the row"})
    code = ma.fields.String(metadata={"example": "credit-code-check"})
    detail = ma.fields.String()


class ImportRowSchema(Schema):
    row = ma.fields.Integer(metadata={"description": "the row's number in the file (the header is row 1)"})
    credit_code = ma.fields.String(allow_none=True, metadata={"description": "as written in the file"})
    outcome = ma.fields.String(metadata={"enum": list(OUTCOMES)})
    enterprise_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "the record created or updated (null: none yet, or refused)"}
    )
    changed = ma.fields.List(ma.fields.String(), metadata={"description": "updated: the columns whose value changed"})
    errors = ma.fields.List(ma.fields.Nested(ImportErrorSchema), metadata={"description": "refused: why"})


class ImportSummarySchema(Schema):
    created = ma.fields.Integer()
    updated = ma.fields.Integer()
    unchanged = ma.fields.Integer()
    refused = ma.fields.Integer()


class ImportAnswerSchema(Schema):
    dry_run = ma.fields.Boolean()
    all_or_nothing = ma.fields.Boolean()
    landed = ma.fields.Boolean(
        metadata={"description": "true: the rows created and updated are written; false: nothing is (a dry run, or "
                  "all_or_nothing with a row refused): the outcomes say what would have happened"}
    )  # fmt: skip
    summary = ma.fields.Nested(ImportSummarySchema, metadata={"description": "the number of rows of each outcome"})
    rows = ma.fields.List(ma.fields.Nested(ImportRowSchema), metadata={"description": "every row, in file order"})


class TemplateArgs(Schema):
    format = ma.fields.String(
        load_default="csv",
        validate=ma.validate.OneOf(["csv", "xlsx"]),
        metadata={"description": "csv (UTF-8 with BOM, the default) or xlsx"},
    )


NOT_MULTIPART = "the file goes in a multipart/form-data body, field `file` (curl -F file=@ledger.xlsx)"


upload = content.upload(
    lambda: MAX_BYTES, NOT_MULTIPART, f"the upload is over {MAX_BYTES // 2**20} MB: split the file into several"
)


@enterprises.route("/import")
class EnterpriseImport(MethodView):
    @enterprises.access(*MANAGERS, note=IMPORT_NOTE)
    @upload
    @enterprises.idempotent()
    @enterprises.query(ImportArgs)
    @enterprises.arguments(ImportFileSchema, location="files")
    @enterprises.response(200, ImportAnswerSchema)
    @enterprises.problem(413, f"the upload is over {MAX_BYTES // 2**20} MB")
    @enterprises.problem(415, NOT_MULTIPART)
    def post(self, files: dict[str, Any], **arguments: Any) -> Any:
        """Import the enterprise ledger

        Upload the county's ledger as `multipart/form-data` (field `file`): every row is checked by the rules of
        the register, then upserted by its credit code among the live records: created, updated (only what
        differs), unchanged, or refused with its reasons (each with the column, a code and a detail). Importing the
        same file again changes nothing. The file itself must be readable, with known column names and the
        required ones (422 otherwise). See docs/enterprises-import.md for the columns, or GET
        /api/v1/enterprises/import-template.
        """
        ledger = read_ledger(files["file"].read(), max_rows=MAX_ROWS)
        report = import_enterprises(db.session(), caller=current_caller(), ledger=ledger, **arguments)
        return json_response(report)


@enterprises.route("/import-template")
class EnterpriseImportTemplate(MethodView):
    @enterprises.access(*MANAGERS, note=IMPORT_NOTE)
    @enterprises.query(TemplateArgs)
    @enterprises.response(200, BINARY, content_type=CSV, description="the template as CSV")
    @enterprises.alt_response(200, schema=BINARY, content_type=XLSX, success=True, description="as .xlsx")
    def get(self, format: str) -> Any:  # noqa: A002
        """Download the ledger's template

        Row 1 names every column in Chinese and English (either name alone is accepted too), row 2 is an example
        to delete; the .xlsx has a second sheet that explains the columns and the values each takes.
        """
        body, mimetype = (template_xlsx(), XLSX) if format == "xlsx" else (template_csv(), f"{CSV}; charset=utf-8")
        disposition = f'attachment; filename="enterprise-ledger-template.{format}"'
        return Response(body, mimetype=mimetype, headers={"Content-Disposition": disposition})

"""The audit trail: who changed what, when, with the values before and after. Read-only, administrators only."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView

from api.extensions import Blueprint, Schema
from api.fields import Instant, id_field
from api.pagination import CursorArgs, CursorMetaSchema, list_answer, split_paging
from api.responses import json_response
from models.audit import audit_listing, audited_entity_types
from models.roles import Role

blp = Blueprint("audit-events", __name__, url_prefix="/api/v1/audit-events", description="The audit trail")


class AuditEventSchema(Schema):
    id = ma.fields.Integer()
    occurred_at = ma.fields.DateTime()
    actor_user_id = ma.fields.Integer(allow_none=True, metadata={"description": "null: the system (a CLI command)"})
    actor = ma.fields.String(metadata={"description": "the username at the time"})
    action = ma.fields.String(metadata={"example": "update", "description": "create, update, retire, end, ..."})
    entity_type = ma.fields.String(metadata={"example": "grid_assignments"})
    entity_id = ma.fields.Integer()
    township_id = ma.fields.Integer(allow_none=True)
    before = ma.fields.Dict(allow_none=True, metadata={"description": "the changed fields before (null on create)"})
    after = ma.fields.Dict(metadata={"description": "the changed fields after (every field on create)"})


class AuditEventPageSchema(CursorMetaSchema):
    items = ma.fields.List(ma.fields.Nested(AuditEventSchema))


class AuditEventArgs(CursorArgs):
    entity_type = ma.fields.String(validate=ma.validate.OneOf(audited_entity_types()))
    entity_id = id_field()
    actor_user_id = id_field()
    action = ma.fields.String(validate=ma.validate.Length(min=1, max=30))
    township_id = id_field()
    since = Instant(metadata={"description": "events at or after this instant"})
    until = Instant(metadata={"description": "events before this instant"})


@blp.route("")
class AuditEvents(MethodView):
    @blp.access(Role.COUNTY_ADMIN)
    @blp.query(AuditEventArgs)
    @blp.response(200, AuditEventPageSchema)
    def get(self, **arguments: Any) -> Any:
        """Read the audit trail

        Every write to the territory, officers, assignments and user accounts, newest first, paged by cursor: who
        (`actor`), when, what (`action` on `entity_type` `entity_id`) and the values before and after. Passwords
        and tokens are never in it. Nothing here can be changed or deleted.
        """
        paging, filters = split_paging(arguments)
        return json_response(list_answer(audit_listing(**filters), paging))


BLUEPRINTS = (blp,)

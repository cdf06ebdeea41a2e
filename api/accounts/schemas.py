"""Schemas of logins, tokens and user accounts. Passwords are load-only: no answer ever carries one."""

from __future__ import annotations

from typing import Any, ClassVar

import marshmallow as ma

from api.errors import coded
from api.extensions import PatchSchema, Schema
from api.fields import id_field, text_field
from api.pagination import CursorArgs, CursorMetaSchema
from models.accounts.passwords import PASSWORD_MAX, PASSWORD_MIN
from models.roles import Role

_ROLE_DOC = "county_admin, township_leader, grid_officer, viewer or department_staff"


def _password(*, login: bool = False) -> ma.fields.String:
    """At login any length up to 1,024 is checked (and fails). A new password follows the policy: 10 to 128
    characters, checked here and stated in the spec, and not containing the username (the accounts service)."""
    if login:
        validate = [ma.validate.Length(min=1, max=1024, error=coded("length", "1 to 1,024 characters"))]
        metadata = {"format": "password"}
    else:
        too_short = coded("password-too-short", f"a password has at least {PASSWORD_MIN} characters")
        too_long = coded("password-too-long", f"a password has at most {PASSWORD_MAX} characters")
        validate = [
            ma.validate.Length(min=PASSWORD_MIN, error=too_short),
            ma.validate.Length(max=PASSWORD_MAX, error=too_long),
        ]
        metadata = {
            "format": "password",
            "description": f"{PASSWORD_MIN} to {PASSWORD_MAX} characters, not containing the username",
        }
    return ma.fields.String(required=True, load_only=True, validate=validate, metadata=metadata)


class LoginSchema(Schema):
    username = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=50, error=coded("length", "1 to 50 characters")),
        metadata={"example": "admin"},
    )
    password = _password(login=True)


class RefreshSchema(Schema):
    refresh_token = ma.fields.String(
        required=True,
        load_only=True,
        validate=ma.validate.Length(min=1, max=200, error=coded("length", "1 to 200 characters")),
    )


class PasswordChangeSchema(Schema):
    current_password = _password(login=True)
    new_password = _password()


class PasswordResetSchema(Schema):
    new_password = _password()


class UserSchema(Schema):
    id = ma.fields.Integer()
    username = ma.fields.String(metadata={"example": "zhangwei"})
    display_name = ma.fields.String(metadata={"example": "张伟"})
    role = ma.fields.Enum(Role, by_value=True, metadata={"description": _ROLE_DOC})
    township_id = ma.fields.Integer(allow_none=True, metadata={"description": "null: the whole county"})
    officer_id = ma.fields.Integer(allow_none=True, metadata={"description": "the officer this account belongs to"})
    department_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "department staff: the department whose enterprises they see"}
    )
    active = ma.fields.Boolean()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    password_changed_at = ma.fields.DateTime()
    deactivated_at = ma.fields.DateTime(allow_none=True)
    locked_until = ma.fields.DateTime(allow_none=True, metadata={"description": "set after too many wrong passwords"})
    version = ma.fields.Integer(metadata={"description": "the ETag is its quoted value"})


class UserPageSchema(CursorMetaSchema):
    items = ma.fields.List(ma.fields.Nested(UserSchema))


class TokenSchema(Schema):
    token_type = ma.fields.String(metadata={"example": "Bearer"})
    access_token = ma.fields.String(metadata={"description": "send as 'Authorization: Bearer <access_token>'"})
    expires_in = ma.fields.Integer(metadata={"description": "seconds the access token lives"})
    access_expires_at = ma.fields.DateTime()
    refresh_token = ma.fields.String(metadata={"description": "for POST /auth/refresh; used once"})
    refresh_expires_in = ma.fields.Integer()
    refresh_expires_at = ma.fields.DateTime()
    user = ma.fields.Nested(UserSchema)


class ScopeSchema(Schema):
    county_wide = ma.fields.Boolean()
    township_id = ma.fields.Integer(allow_none=True)
    officer_id = ma.fields.Integer(allow_none=True)
    department_id = ma.fields.Integer(allow_none=True)
    cell_ids = ma.fields.List(
        ma.fields.Integer(), allow_none=True, metadata={"description": "a grid officer's current cells"}
    )
    read_only = ma.fields.Boolean(
        metadata={"description": "true for a viewer: the role never writes (the 'Who may call' lines say the rest)"}
    )


class MeSchema(UserSchema):
    scope = ma.fields.Nested(ScopeSchema)


_USERNAME = ma.validate.Regexp(
    r"\A[A-Za-z0-9][A-Za-z0-9._-]{2,49}\Z",
    error=coded(
        "username-format", "3 to 50 letters, digits, dots, dashes or underscores, starting with a letter or digit"
    ),
)


def _when_role(role: Role, then: dict[str, Any], otherwise: dict[str, Any] | None = None) -> dict[str, Any]:
    rule = {"if": {"properties": {"role": {"const": role.value}}}, "then": then}
    return rule | ({"else": otherwise} if otherwise else {})


class UserCreateSchema(Schema):
    """Which of township_id and officer_id a role needs is in the spec too (the accounts service checks it)."""

    json_schema: ClassVar[dict[str, Any]] = {
        "allOf": [
            _when_role(
                Role.GRID_OFFICER,
                {"required": ["officer_id"], "properties": {"officer_id": {"type": "integer"}}},
                {"properties": {"officer_id": {"type": "null"}}},
            ),
            _when_role(
                Role.TOWNSHIP_LEADER, {"required": ["township_id"], "properties": {"township_id": {"type": "integer"}}}
            ),
            _when_role(Role.COUNTY_ADMIN, {"properties": {"township_id": {"type": "null"}}}),
            _when_role(
                Role.DEPARTMENT_STAFF,
                {
                    "required": ["department_id"],
                    "properties": {"department_id": {"type": "integer"}, "township_id": {"type": "null"}},
                },
                {"properties": {"department_id": {"type": "null"}}},
            ),
        ]
    }

    username = ma.fields.String(required=True, validate=_USERNAME, metadata={"example": "zhangwei"})
    display_name = text_field(100, required=True, example="张伟")
    password = _password()
    role = ma.fields.Enum(Role, by_value=True, required=True, metadata={"description": _ROLE_DOC})
    township_id = id_field(
        allow_none=True,
        metadata={"description": "required for a township leader; a viewer without one sees the county"},
    )
    officer_id = id_field(allow_none=True, metadata={"description": "required for a grid officer"})
    department_id = id_field(allow_none=True, metadata={"description": "required for department staff"})


class UserPatchSchema(PatchSchema):
    display_name = text_field(100)
    role = ma.fields.Enum(Role, by_value=True)
    township_id = id_field(allow_none=True)
    officer_id = id_field(allow_none=True)
    department_id = id_field(allow_none=True)


class UserListArgs(CursorArgs):
    role = ma.fields.Enum(Role, by_value=True)
    township_id = id_field()
    name = ma.fields.String(metadata={"description": "part of the username or display name"})
    include_inactive = ma.fields.Boolean(load_default=False)

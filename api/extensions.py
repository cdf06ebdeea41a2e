"""The single customisation point of flask-smorest: our Api, Blueprint and base Schema."""

from __future__ import annotations

import copy
import http
import re
from collections.abc import Mapping
from typing import Any, ClassVar

import flask_smorest
import marshmallow as ma
import orjson
from apispec import BasePlugin
from flask_smorest.utils import load_info_from_docstring, prepare_response
from webargs.flaskparser import FlaskParser

from api import content, errors, idempotency
from api.auth import PUBLIC, AccessRule, declare
from api.errors import PROBLEM_JSON
from models.roles import Role

BEARER = "bearerAuth"


def _nul_path(node: Any, path: str = "") -> str | None:
    """Where a NUL character hides in loaded input, or None. (Input without one, nearly all, is told at once from
    its JSON text, where a NUL is written \\u0000: a patrol's 300 fixes are not walked one string at a time.)"""
    if not path:
        try:
            if b"\\u0000" not in orjson.dumps(node, option=orjson.OPT_NON_STR_KEYS):
                return None
        except TypeError:  # (not JSON: walked)
            pass
    if isinstance(node, str):
        return path or "_schema" if "\x00" in node else None
    if isinstance(node, Mapping):
        items: Any = node.items()
    elif isinstance(node, list | tuple):
        items = enumerate(node)
    else:
        return None
    for key, value in items:
        found = _nul_path(value, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


# The spec says what the server refuses, so that a client (and the fuzz tests) can tell before sending:
NO_NUL = "^[^\\u0000]*$"  # every string without a pattern of its own gets this one (see `_string_limits`)


def _char_class(codes: list[int]) -> str:
    """Code points as the inside of a regex character class, in ranges (\\uXXXX reads alike in ECMA 262 and Python)."""
    spans: list[list[int]] = []
    for code in sorted(codes):
        if spans and code == spans[-1][1] + 1:
            spans[-1][1] = code
        else:
            spans.append([code, code])
    return "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in spans)


# A text that is not blank: one character that `str.strip()` keeps (and, like any text, no NUL).
NOT_BLANK = f"^[^\\u0000]*[^{_char_class([0, *(c for c in range(0x10000) if chr(c).isspace())])}][^\\u0000]*$"
_ANCHORED = re.compile(r"\\A(.*)\\Z", re.DOTALL)


class Schema(ma.Schema):
    """Base schema: unknown fields are an error, in bodies and query strings alike; so is a NUL character in any
    string (PostgreSQL cannot store one; no name or reason needs one).

    `json_schema` holds keywords that a schema class adds to its component in the spec (see `SchemaKeywords`)."""

    json_schema: ClassVar[dict[str, Any]] = {}

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def _no_nul(self, data: Any, **_kwargs: Any) -> Any:
        where = _nul_path(data)
        if where:
            raise ma.ValidationError(errors.coded("nul-character", "text may not contain a NUL character"), where)
        return data


class PatchSchema(Schema):
    """A partial change: every field optional, but an empty body is refused (`empty-patch`), and the spec says so
    (`minProperties: 1`)."""

    json_schema: ClassVar[dict[str, Any]] = {"minProperties": 1}

    @ma.validates_schema
    def _not_empty(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data:
            names = ", ".join(f.data_key or name for name, f in self.load_fields.items())
            raise ma.ValidationError(errors.coded("empty-patch", f"give at least one of {names}"))


class SchemaKeywords(BasePlugin):
    """apispec plugin: a schema component gets the `json_schema` keywords of its class (e.g. `minProperties`)."""

    def schema_helper(self, name: str, definition: dict[str, Any], **kwargs: Any) -> dict[str, Any] | None:
        schema = kwargs.get("schema")
        schema_class = schema if isinstance(schema, type) else type(schema)
        return dict(getattr(schema_class, "json_schema", None) or {}) or None


def _string_limits(_converter: Any, field: ma.fields.Field, ret: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
    """apispec attribute function for every field: a string says in its `pattern` that the server refuses NUL, and a
    pattern anchored the Python way (\\A...\\Z, so that a trailing newline is refused) is written the JSON Schema
    (ECMA 262) way, where ^...$ already means the whole string."""
    kind = ret.get("type")
    told = "enum" in ret or ret.get("format", "password") != "password"  # choices and times say what they take
    if "string" not in (kind if isinstance(kind, list) else [kind]) or told:
        return {}
    pattern = ret.get("pattern")
    if pattern is None:
        return {"pattern": NO_NUL}
    anchored = _ANCHORED.fullmatch(pattern)
    return {"pattern": f"^{anchored.group(1)}$"} if anchored else {}


class FieldErrorSchema(Schema):
    in_ = ma.fields.String(data_key="in", metadata={"description": "body, query or header"})
    field = ma.fields.String(allow_none=True, metadata={"description": "dotted name of the field"})
    pointer = ma.fields.String(metadata={"description": "JSON pointer into the request body"})
    code = ma.fields.String(metadata={"description": "the rule broken, e.g. ring-not-closed"})
    detail = ma.fields.String()


class ProblemSchema(Schema):
    """An RFC 9457 problem: every error of this API has this shape. Besides the standard members, a problem may
    carry extension members (RFC 9457 section 3.2) that let a client act on it without parsing `detail`."""

    type = ma.fields.String(metadata={"example": "urn:grid-patrol:problem:overlaps-sibling"})
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    code = ma.fields.String(metadata={"description": "short, stable name of the problem"})
    instance = ma.fields.String()
    errors = ma.fields.List(ma.fields.Nested(FieldErrorSchema))
    # Extension members: each appears only with the problems named in its description.
    existing_id = ma.fields.Integer(
        metadata={
            "description": "code-taken, mobile-taken, username-taken...: the id of the record that already "
            "has this code, mobile number, username or officer (only when it is in the caller's scope)"
        }
    )
    sibling_code = ma.fields.String(
        metadata={"description": "overlaps-sibling: the code of the active sibling unit that the boundary overlaps"}
    )
    child_code = ma.fields.String(
        metadata={"description": "a redrawn boundary that would leave an active child outside: the child's code"}
    )
    area_m2 = ma.fields.Float(
        metadata={"description": "outside-parent, overlaps-sibling...: the area in question, m² on the ellipsoid"}
    )
    assignment_id = ma.fields.Integer(
        metadata={"description": "an assignment conflict: the assignment in the history that this one collides with"}
    )
    current_version = ma.fields.Integer(
        metadata={"description": "412 on a record: its current version (send it quoted as If-Match)"}
    )
    current_status = ma.fields.String(metadata={"description": "transition-not-allowed: the state the record is in"})
    allowed = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "transition-not-allowed: the steps its state allows (possibly none)"},
    )
    missing = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "five-implementations-incomplete: the parts of the plan not yet given"},
    )
    hazard_numbers = ma.fields.List(
        ma.fields.String(), metadata={"description": "open-major-hazards: the numbers of the major hazards still open"}
    )
    current_etag = ma.fields.String(
        metadata={"description": "412 on a cell's team: the team's current ETag (send it quoted as If-Match)"}
    )


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        errors.register(self._app)

    def _init_spec(self, *args: Any, **kwargs: Any) -> None:
        kwargs["extra_plugins"] = [SchemaKeywords(), *(kwargs.get("extra_plugins") or ())]
        super()._init_spec(*args, **kwargs)
        self.ma_plugin.converter.add_attribute_function(_string_limits)
        self.spec.components.security_scheme(
            BEARER,
            {
                "type": "http",
                "scheme": "bearer",
                "description": "An access token from POST /api/v1/auth/token (15 minutes; renew it at "
                "POST /api/v1/auth/refresh).",
            },
        )

    def _register_responses(self) -> None:
        """Every error response in the spec is a problem+json document."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


class _Parser(FlaskParser):
    def load_querystring(self, req: Any, schema: ma.Schema) -> Any:
        """The query string as a plain dict of the parameters sent: a list for a field that takes several values, the
        first value for any other (as webargs' proxy answers them). The proxy looked every field of the schema up
        through werkzeug, which raises and catches an exception for each one not sent: some fifteen for a list with
        its filters, on every request."""
        args = req.args
        multiple = self._multiple_keys(schema)
        return {key: args.getlist(key) if key in multiple else args[key] for key in args}

    def _multiple_keys(self, schema: ma.Schema) -> frozenset[str]:
        """The parameters of `schema` that take several values, worked out once per schema instance."""
        keys = schema.__dict__.get("_query_multiple_keys")
        if keys is None:
            keys = frozenset(self._makeproxy({}, schema).multiple_keys)
            schema.__dict__["_query_multiple_keys"] = keys
        return keys


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = _Parser()

    def access(self, *roles: Role, public: bool = False, note: str = "") -> Any:
        """Declare who may call the view: the roles it admits, or `public=True`. Put it first (outermost).

        The rule is enforced for the whole app by `api.auth.authorise`, and documented here: the operation's
        security requirement, its 401/403 answers, and a "Who may call" line in its description.
        """
        if public == bool(roles):
            raise ValueError("give the roles a view admits, or public=True")
        rule = PUBLIC if public else AccessRule(roles=frozenset(roles), note=note)

        def decorator(func: Any) -> Any:
            manual = getattr(func, "_apidoc", {}).get("manual_doc", {})
            base = manual.get("description") or load_info_from_docstring(func.__doc__ or "").get("description", "")
            doc: dict[str, Any] = {"description": f"{base}\n\n{rule.describe()}".strip()}
            if rule.public:
                doc["security"] = []
            else:
                doc["security"] = [{BEARER: []}]
                doc["x-roles"] = [role.value for role in Role if role in rule.roles]
                func = self.problem(401, "no access token, or one that is expired or revoked")(func)
                func = self.problem(403, "the caller's role may not do this")(func)
            return declare(rule)(self.doc(**doc)(func))

        return decorator

    def header(self, parameter: dict[str, Any]) -> Any:
        """Document a header parameter, beside those documented already: put among the arguments' parameters (where
        `query` puts its own), since `doc(parameters=...)` would replace those."""

        def decorator(func: Any) -> Any:
            func._apidoc = copy.deepcopy(getattr(func, "_apidoc", {}))  # (shared with the function it wraps)
            func._apidoc.setdefault("arguments", {}).setdefault("parameters", []).append(parameter)
            return func

        return decorator

    def idempotent(self) -> Any:
        """Accept an `Idempotency-Key` header that makes a retry of the write safe (see `api.idempotency`). Put it
        right under `access`, so that it wraps the whole view, argument parsing included."""

        def decorator(func: Any) -> Any:
            func = self.problem(409, "a request with the same Idempotency-Key is still at work (Retry-After)")(func)
            func = self.problem(422, "the Idempotency-Key was used for another request")(func)
            return self.header(idempotency.HEADER_DOC)(idempotency.idempotent(func))

        return decorator

    def problem(self, status: int, description: str) -> Any:
        """Document an error answer of the view (every error is a problem+json document)."""
        return self.alt_response(status, schema=ProblemSchema, content_type=PROBLEM_JSON, description=description)

    def if_match(
        self,
        description: str = 'the ETag of the version you change, e.g. "3", from a GET; * for any version',
        *,
        stale: str = "If-Match does not name the current version",
    ) -> Any:
        """Document the If-Match header that a write requires, and its answers: 428 without it, 412 when stale.
        The view checks it (`api.conditional`)."""
        header = {
            "in": "header",
            "name": "If-Match",
            "required": True,
            # RFC 9110 8.8.3: a quoted entity tag, or * for any version; anything else fails the precondition (412).
            "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": '^(?:\\*|"[!#-~]*")$'},
            "description": description,
        }

        def decorator(func: Any) -> Any:
            func = self.problem(412, stale)(func)
            func = self.problem(428, "If-Match is missing")(func)
            return self.header(header)(func)

        return decorator

    def arguments(self, schema: type[ma.Schema] | ma.Schema, *, location: str = "json", **kwargs: Any) -> Any:
        """flask-smorest's arguments; a JSON body is also marked for `api.content` (415 when not JSON) and the 415
        documented. The schema is instantiated once here (given a class, webargs would make one per request)."""
        if isinstance(schema, type):
            schema = schema()
        parse = super().arguments(schema, location=location, **kwargs)
        if location != "json":
            return parse
        return lambda func: self.problem(415, content.NOT_JSON)(content.json_body(parse(func)))

    def query(self, schema: type[ma.Schema] | ma.Schema) -> Any:
        """Query-string arguments, passed to the view as keyword arguments; unknown ones are refused."""
        return self.arguments(schema, location="query", unknown=ma.RAISE, as_kwargs=True)

"""Who may call what: bearer tokens, the caller of a request, and the access rule of every endpoint.

Each view declares its rule with `@blp.access(...)` (see `api.extensions.Blueprint.access`): the roles it admits,
or `public`. One `before_request` hook enforces the rules for the whole app and fails closed: a route without a
rule answers 500 (a bug, and a test walks the URL map so that it never ships). Roles gate the verbs here; which
objects a caller reaches is decided by the scope clauses in `models.scope`, so that an object out of scope answers
exactly like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g, request

from api.db import db
from models.accounts.tokens import caller_for_token
from models.errors import Forbidden, Unauthenticated
from models.roles import ALL_ROLES, Caller, Role

# flask-smorest's own routes: the spec and the interactive docs are public, and so are the docs' assets.
PUBLIC_ENDPOINTS = frozenset({"api-docs.openapi_json", "api-docs.openapi_swagger_ui", "swagger-ui.asset"})
_CHALLENGE = 'Bearer realm="grid-patrol"'


@dataclass(frozen=True)
class AccessRule:
    roles: frozenset[Role]
    public: bool = False
    note: str = ""  # what the scope means for this endpoint, for the docs

    def describe(self) -> str:
        if self.public:
            return "**Who may call:** anyone; no token needed."
        names = ", ".join(role.value for role in Role if role in self.roles)
        text = f"**Who may call:** {names}" if self.roles != ALL_ROLES else "**Who may call:** every role"
        text += ", each within their scope." if not self.note else f". {self.note}"
        return text


PUBLIC = AccessRule(roles=frozenset(), public=True)


def handler_of(view: Callable | None, method: str) -> Callable | None:
    """The function that answers `method` on a view: the view itself, or a MethodView's method (HEAD: get)."""
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return view
    return getattr(view_class, "get" if method == "HEAD" else method.lower(), None)


def access_rule_of(view: Callable, method: str) -> AccessRule | None:
    """The rule declared for a view function (or a MethodView's method)."""
    return getattr(handler_of(view, method), "_access_rule", None)


def endpoint_rule(app: Flask, endpoint: str, method: str) -> AccessRule | None:
    if endpoint in PUBLIC_ENDPOINTS:
        return PUBLIC
    view = app.view_functions.get(endpoint)
    return access_rule_of(view, method) if view is not None else None


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        return None
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "send the access token as 'Authorization: Bearer <token>'",
            code="invalid-token",
            headers={"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_request"'},
        )
    return token.strip()


def authorise() -> None:
    """The before_request hook: authenticate, then check the endpoint's rule against the caller's role."""
    if request.endpoint is None or request.routing_exception is not None or request.method == "OPTIONS":
        return  # 404 and 405 are answered as usual; OPTIONS only lists the methods
    rule = endpoint_rule(current_app, request.endpoint, request.method)
    if rule is None:
        raise RuntimeError(f"{request.method} {request.endpoint} declares no access rule")
    if rule.public:
        return
    token = bearer_token()
    if token is None:
        raise Unauthenticated(
            "this endpoint needs an access token: log in at POST /api/v1/auth/token and send "
            "'Authorization: Bearer <access_token>'",
            headers={"WWW-Authenticate": _CHALLENGE},
        )
    caller = caller_for_token(db.session(), access_token=token)
    if caller is None:
        raise Unauthenticated(
            "the access token is not valid (expired, revoked or unknown): refresh it or log in again",
            code="invalid-token",
            headers={"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_token"'},
        )
    g.caller = db.session().info["actor"] = caller  # also the audit trail's "who"
    if caller.role not in rule.roles:
        raise Forbidden(f"a {caller.role.label} may not {request.method} {request.path}")


def current_caller() -> Caller:
    """The authenticated caller of this request (endpoints that admit roles only)."""
    return g.caller


def register(app: Flask) -> None:
    app.before_request(authorise)


def declare(rule: AccessRule) -> Callable[[Any], Any]:
    """Attach an access rule to a view function (used by `Blueprint.access`)."""

    def decorator(func: Any) -> Any:
        func._access_rule = rule
        return func

    return decorator

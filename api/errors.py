"""One error shape for everything: application/problem+json (RFC 9457).

Every problem has `type` (a URN naming the problem), `title`, `status`, `detail` and `code` (the same name, short);
validation problems add `errors`, one entry per broken field: `in` (body, query, header), `field`, `pointer`
(a JSON pointer into the body), `code` and `detail`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from api.responses import json_response
from models.errors import DomainError

PROBLEM_JSON = "application/problem+json"
_log = logging.getLogger(__name__)

# Messages of our own fields start with "[code] "; marshmallow's own messages get a code from this table.
_CODED = re.compile(r"^\[([a-z0-9-]+)\] (.*)$", re.DOTALL)
_MARSHMALLOW_CODES = {
    "Missing data for required field.": "required",
    "Unknown field.": "unknown-field",
    "Field may not be null.": "null",
    "Invalid JSON body.": "malformed-json",
}
_HTTP_CODES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    412: "precondition-failed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "invalid-input",
    428: "precondition-required",
    429: "too-many-requests",
    500: "internal-error",
}
_LOCATIONS = {"json": "body", "query": "query", "headers": "header", "form": "body", "files": "body"}


def coded(code: str, message: str) -> str:
    """A validation message that carries its rule's code through marshmallow."""
    return f"[{code}] {message}"


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {
        "type": f"urn:grid-patrol:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.path,
    }
    body.update(extra)
    if errors:
        body["errors"] = errors
    return json_response(body, status, headers=headers, mimetype=PROBLEM_JSON)


def flatten_messages(messages: Any, location: str = "json") -> list[dict[str, Any]]:
    """marshmallow/webargs messages ({location: {field: [msg]}}) as a flat list of field errors."""
    out: list[dict[str, Any]] = []

    def walk(node: Any, path: list[str], location: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, path if key == "_schema" else [*path, str(key)], location)
        elif isinstance(node, list | tuple):
            for item in node:
                walk(item, path, location)
        else:
            text = str(node)
            match = _CODED.match(text)
            code, detail = (
                (match.group(1), match.group(2)) if match else (_MARSHMALLOW_CODES.get(text, "invalid"), text)
            )
            entry: dict[str, Any] = {"in": _LOCATIONS.get(location, location), "field": ".".join(path) or None}
            if location in ("json", "form") and path:
                entry["pointer"] = "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in path)
            entry.update(code=code, detail=detail)
            out.append(entry)

    if isinstance(messages, dict) and set(messages) <= set(_LOCATIONS):
        for loc, node in messages.items():
            walk(node, [], loc)
    else:
        walk(messages, [], location)
    return out


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    if status >= 500:
        original = getattr(error, "original_exception", None)
        if original is not None:
            return handle_unexpected(original)
    data = getattr(error, "data", None) or {}
    headers = dict(data.get("headers") or {})
    if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
        headers["Allow"] = ", ".join(sorted(error.valid_methods))  # type: ignore[attr-defined]
    messages = data.get("messages") or data.get("errors")
    if messages:
        errors = flatten_messages(messages)
        code = errors[0]["code"] if len(errors) == 1 else _HTTP_CODES.get(status, "invalid-input")
        detail = (
            errors[0]["detail"]
            if len(errors) == 1
            else f"{len(errors)} problems: " + "; ".join(f"{e['field'] or e['in']}: {e['detail']}" for e in errors)
        )
        title = "The request is not valid" if status in (400, 422) else error.name
        return problem(status, code, title, detail, errors=errors, headers=headers)
    detail = data.get("message") or error.description or error.name
    return problem(status, _HTTP_CODES.get(status, f"http-{status}"), error.name, detail, headers=headers)


def handle_domain_error(error: DomainError) -> Response:
    errors = None
    if error.pointer:
        field = error.pointer.lstrip("/").replace("/", ".")
        errors = [{"in": "body", "field": field, "pointer": error.pointer, "code": error.code, "detail": error.detail}]
    return problem(
        error.status, error.code, error.title, error.detail, errors=errors, headers=error.headers, **error.extra
    )


def handle_unexpected(error: BaseException) -> Response:
    _log.error("unhandled error on %s %s", request.method, request.path, exc_info=error)
    return problem(500, "internal-error", "Internal server error", "The server failed; the error has been logged.")


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(Exception, handle_unexpected)

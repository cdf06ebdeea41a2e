"""Request bodies are JSON: a body of any other media type is refused with 415 before its fields are read.

Without this, `curl -d username=admin -d password=...` (form-encoded) was answered "Missing data for required
field": true, but no help. Views that read a JSON body are marked by `Blueprint.arguments` (`api.extensions`),
which also documents the 415; one `before_request` hook, registered after the access check, refuses the body.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request
from flask_smorest import abort

from api.auth import handler_of

NOT_JSON = "the body is not JSON: send it with Content-Type: application/json"


def json_body(func: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view as one that reads a JSON body."""
    func._json_body = True  # type: ignore[attr-defined]
    return func


def _has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def refuse_other_media_types() -> None:
    """The before_request hook: a body sent to a view that reads JSON must be JSON (`application/json`, any
    charset, or `application/*+json`). No body at all is left to the schema (it says which fields are required)."""
    if request.endpoint is None or request.routing_exception is not None:
        return
    handler = handler_of(current_app.view_functions.get(request.endpoint), request.method)
    if not getattr(handler, "_json_body", False):
        return
    if _has_body() and not request.is_json:
        sent = request.mimetype or "no Content-Type"
        abort(415, message=f"{NOT_JSON} (this request sent {sent})")


def upload(
    max_bytes: Callable[[], int], not_multipart: str, too_large: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A view that takes a file: a body that is not multipart/form-data is refused with 415 (`not_multipart`), one
    over `max_bytes()` with 413 (`too_large`), before any of it is read (one sent without a length is cut off there).
    No body at all is left to the schema (its file field is required)."""

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            limit = max_bytes()
            request.max_content_length = limit
            if (request.content_length or 0) > limit:
                abort(413, message=too_large)
            if request.content_length and request.mimetype != "multipart/form-data":
                abort(415, message=f"{not_multipart} (this request sent {request.mimetype or 'no Content-Type'})")
            return func(*args, **kwargs)

        return wrapper

    return decorator


def register(app: Flask) -> None:
    app.before_request(refuse_other_media_types)

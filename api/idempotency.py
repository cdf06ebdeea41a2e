"""The `Idempotency-Key` header: one mechanism for every write a client may retry (see `models.idempotency`).

`@blp.idempotent()` (api.extensions) wraps a view: without the header the view runs as usual; with it, the first
request does the work and its successful answer (status, body, Location, ETag) is stored; the same key with the same
method, path and body answers that stored answer, marked `Idempotent-Replayed: true`, without doing the work again;
the same key with another request is a 422; a duplicate that arrives while the first is still at work waits for
it, and answers 409 (with Retry-After) if it takes too long. Keys belong to the account that sent them.
"""

from __future__ import annotations

import functools
import hashlib
import re
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import orjson
from flask import Response, current_app, request

from api.auth import current_caller
from api.db import db
from models.errors import Conflict, DomainError, RuleViolation
from models.idempotency import DONE, Claim, claim, complete, release, stored_answer

HEADER = "Idempotency-Key"
KEY_PATTERN = r"^[!-~]{1,255}$"  # printable ASCII, no spaces: a UUID is the usual choice
_KEY = re.compile(KEY_PATTERN)
_REPLAYED_HEADERS = ("Content-Type", "Location", "ETag")
_POLL_SECONDS = 0.05

HEADER_DOC = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "pattern": KEY_PATTERN, "minLength": 1, "maxLength": 255},
    "description": "A key of your choosing (a UUID) that makes a retry of this request safe: the same key with the "
    "same request answers the first answer again (with `Idempotent-Replayed: true`) instead of doing the work "
    "twice; the same key with another request is a 422. Kept 24 hours, per account.",
}


def fingerprint() -> str:
    """Method, path, query and body of this request; a JSON body counts by its content, not its spelling, and a
    multipart form by its fields and files, not the boundary that a client draws anew for every send."""
    if request.mimetype == "multipart/form-data":
        body = _form_content()
    else:
        raw = request.get_data(cache=True)
        try:
            body = orjson.dumps(orjson.loads(raw), option=orjson.OPT_SORT_KEYS) if raw else b""
        except orjson.JSONDecodeError:
            body = raw
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.full_path.encode(), body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _form_content() -> bytes:
    """A multipart form's fields, and each file's field, name and SHA-256, in order (the files are read and rewound
    for the view)."""
    parts: list[list[str]] = sorted([name, value] for name, value in request.form.items(multi=True))
    files = []
    for name, upload in request.files.items(multi=True):
        files.append([name, upload.filename or "", hashlib.sha256(upload.stream.read()).hexdigest()])
        upload.stream.seek(0)
    return b"multipart " + orjson.dumps([parts, sorted(files)])


def _replay(stored: Claim) -> Response:
    headers = {k: v for k, v in (stored.response_headers or {}).items() if k != "Content-Type"}
    headers["Idempotent-Replayed"] = "true"
    return Response(
        stored.response_body,
        status=stored.response_status,
        headers=headers,
        content_type=(stored.response_headers or {}).get("Content-Type", "application/json"),
    )


def _refuse_other_request() -> DomainError:
    return RuleViolation(
        f"this {HEADER} was already used for another request (another method, path or body): use a new key for a "
        "new request",
        code="idempotency-key-reused",
    )


def _wait_for(session: Any, claimed: Claim) -> Response | None:
    """Wait for the request holding the key; its answer, or None when it failed and released the key."""
    deadline = time.monotonic() + current_app.config["IDEMPOTENCY_WAIT_SECONDS"]
    caller = current_caller()
    while time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)
        now = stored_answer(session, caller=caller, claim_id=claimed.id)
        if now is None:
            return None
        if now.state == DONE:
            return _replay(now)
    raise Conflict(
        f"a request with this {HEADER} is still being processed: retry in a moment",
        code="idempotency-key-in-flight",
        headers={"Retry-After": "1"},
    )


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """Make a view safe to retry with an `Idempotency-Key` (see the module notes)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not _KEY.match(key):
            raise RuleViolation(
                f"{HEADER} is 1 to 255 printable ASCII characters without spaces (a UUID, say)",
                code="idempotency-key-invalid",
            )
        config, caller, mine = current_app.config, current_caller(), fingerprint()
        with db.new_session() as session:
            for _attempt in range(3):  # a holder that fails releases the key: then claim it again
                claimed = claim(
                    session,
                    caller=caller,
                    key=key,
                    fingerprint=mine,
                    method=request.method,
                    path=request.path,
                    ttl=timedelta(hours=config["IDEMPOTENCY_TTL_HOURS"]),
                    lease=timedelta(seconds=config["IDEMPOTENCY_LEASE_SECONDS"]),
                )
                if claimed.mine:
                    break
                if claimed.fingerprint != mine:
                    raise _refuse_other_request()
                if claimed.state == DONE:
                    return _replay(claimed)
                answer = _wait_for(session, claimed)
                if answer is not None:
                    return answer
            else:
                raise Conflict(f"the {HEADER} is contended: retry in a moment", code="idempotency-key-in-flight")
            try:
                response = current_app.make_response(view(*args, **kwargs))
            except BaseException:
                db.session().rollback()  # what the failed work left open must not hold the lock we need (SQLite)
                release(session, caller=caller, claim_id=claimed.id)
                raise
            db.session().rollback()  # the work is committed; end its read, if any, before writing the answer
            if 200 <= response.status_code < 300:
                headers = {h: response.headers[h] for h in _REPLAYED_HEADERS if h in response.headers}
                body = response.get_data(as_text=True)
                complete(
                    session, caller=caller, claim_id=claimed.id, status=response.status_code, headers=headers, body=body
                )
            else:
                release(session, caller=caller, claim_id=claimed.id)
            return response

    return wrapper

"""Domain errors: each carries an HTTP-ish status, a stable machine code and a message for a person.

The API layer turns them into problem+json; nothing here knows about HTTP beyond the status number.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    code = "bad-request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        pointer: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.pointer = pointer  # JSON pointer into the request body, e.g. "/boundary"
        self.headers = headers or {}  # e.g. WWW-Authenticate, Retry-After
        self.extra = extra  # extra members of the problem document


class Unauthenticated(DomainError):
    """No valid credentials: no token, a bad or expired one, or a failed login."""

    status = 401
    code = "unauthenticated"
    title = "Authentication required"


class Forbidden(DomainError):
    """The caller is known but their role may not do this (objects out of scope are `NotFound` instead)."""

    status = 403
    code = "forbidden"
    title = "Forbidden"


class TooManyRequests(DomainError):
    status = 429
    code = "too-many-requests"
    title = "Too many requests"


class NotFound(DomainError):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict"


class PreconditionFailed(DomainError):
    status = 412
    code = "precondition-failed"
    title = "Precondition failed"


class PreconditionRequired(DomainError):
    status = 428
    code = "precondition-required"
    title = "Precondition required"


class RuleViolation(DomainError):
    """Well-formed input that breaks a rule of the domain (a geometry outside its parent, a code that does not fit)."""

    status = 422
    code = "rule-violation"
    title = "A rule of the domain is broken"

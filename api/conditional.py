"""Conditional requests: every change of an existing record names the version it changes (If-Match)."""

from __future__ import annotations

from flask import request

from models.errors import PreconditionFailed, PreconditionRequired


def if_match() -> str | None:
    """The entity tag named by If-Match, unquoted (None for `*`); a write without If-Match is refused with 428."""
    header = request.headers.get("If-Match")
    if not header:
        raise PreconditionRequired(
            "send If-Match with the ETag of the version you are changing (GET it first), or * for any version"
        )
    value = header.strip()
    if value == "*":
        return None
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        return value[1:-1]
    raise PreconditionFailed(f'If-Match {header!r} is not an ETag of this API (they look like "3")')


def expected_version() -> int | None:
    """The record version named by If-Match (None for `*`)."""
    tag = if_match()
    if tag is None:
        return None
    if tag.isdigit():
        return int(tag)
    raise PreconditionFailed(f'If-Match "{tag}" is not a version of this record (they look like "3")')

"""Conditional requests: every change of an existing record names the version it changes (If-Match)."""

from __future__ import annotations

from flask import request

from models.errors import PreconditionFailed, PreconditionRequired

# What to send instead: no example version, which would read like this record's real one.
_SEND = "send the ETag header exactly as GET answered it for what you change, in double quotes, or * for any version"


def if_match() -> str | None:
    """The entity tag named by If-Match, unquoted (None for `*`); a write without If-Match is refused with 428.

    Only strong ETags: a weak one (`W/"..."`) never matches under the strong comparison If-Match calls for
    (RFC 9110, 13.1.1), so it is refused as weak rather than compared.
    """
    header = request.headers.get("If-Match")
    if not header:
        raise PreconditionRequired(
            "send If-Match with the ETag of the version you are changing (GET it first), or * for any version"
        )
    value = header.strip()
    if value == "*":
        return None
    if value[:2] in ("W/", "w/"):
        raise PreconditionFailed(f"If-Match {header!r} is a weak ETag, and this API accepts only strong ones: {_SEND}")
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        return value[1:-1]
    raise PreconditionFailed(f"If-Match {header!r} is not an ETag (an ETag is in double quotes): {_SEND}")


def expected_version() -> int | None:
    """The record version named by If-Match (None for `*`)."""
    tag = if_match()
    if tag is None:
        return None
    if tag.isascii() and tag.isdigit():  # not str.isdigit alone: "²" is a digit to it, and int() refuses it
        return int(tag)
    raise PreconditionFailed(f'If-Match "{tag}" is not an ETag of this record: {_SEND}')

"""The one listing helper: a `Listing` (select, filters, stable order) and the page arguments in, the page answer out.

Two ways to page, one per kind of list:
- **by cursor** (keyset), for every list that grows without bound: `page_size` and `cursor`; the answer carries
  `next_cursor` and `next` (the same URL with the cursor), null on the last page. Each page costs the same however
  deep it lies. No total unless `count=true` asks for one (an exact count reads every matching row).
- **by page number**, for small lists (townships): `page` and `page_size`; the answer carries an exact `total`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import marshmallow as ma
import orjson
from flask import current_app, request
from flask_smorest import abort
from sqlalchemy import Integer, String

from api.db import db
from api.errors import coded
from api.extensions import Schema
from models.base import UTCDateTime
from models.listing import Listing, count, page_after, page_at

PAGE_SIZE_DOC = "items per page (default 50)"


PAGE_SIZE_CAP = 500  # the hard cap, in the spec; PAGE_SIZE_MAX may set a lower one


class PageSize(ma.fields.Integer):
    """`page_size`: at least 1, at most PAGE_SIZE_MAX (500 unless configured lower); `cap` raises the hard cap for a
    list whose pages are map views (their features are small)."""

    def __init__(self, cap: int = PAGE_SIZE_CAP) -> None:
        self.cap = cap
        super().__init__(
            load_default=None,
            validate=ma.validate.Range(min=1, error=coded("invalid", "page_size is at least 1")),
            metadata={"description": f"{PAGE_SIZE_DOC}, at most {cap}", "maximum": cap},
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        size = super()._deserialize(value, attr, data, **kwargs)
        limit = self.cap if self.cap != PAGE_SIZE_CAP else min(current_app.config["PAGE_SIZE_MAX"], PAGE_SIZE_CAP)
        if size > limit:
            raise ma.ValidationError(coded("page-size-too-large", f"page_size may be at most {limit}"))
        return size


class PageArgs(Schema):
    """Paging by page number (small lists only): `total` is always answered."""

    page = ma.fields.Integer(
        load_default=1, validate=ma.validate.Range(min=1, max=1_000_000), metadata={"description": "1-based"}
    )
    page_size = PageSize()
    count = ma.fields.Boolean(load_default=True, metadata={"description": "`total` is always answered here"})


class CursorArgs(Schema):
    """Paging by cursor (keyset)."""

    cursor = ma.fields.String(
        validate=ma.validate.Regexp(
            r"\A[A-Za-z0-9_-]{1,1000}\Z", error=coded("invalid-cursor", "a cursor is a next_cursor from an answer")
        ),
        metadata={"description": "`next_cursor` of the previous page (absent: the first page)"},
    )
    page_size = PageSize()
    count = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "true: answer `total`, the exact number of matching items (reads them all)"},
    )


class PageMetaSchema(Schema):
    page = ma.fields.Integer()
    page_size = ma.fields.Integer()
    total = ma.fields.Integer(metadata={"description": "number of items matching the filters"})


class CursorMetaSchema(Schema):
    page_size = ma.fields.Integer()
    next_cursor = ma.fields.String(
        allow_none=True, metadata={"description": "send as `cursor` for the next page; null on the last page"}
    )
    next = ma.fields.String(allow_none=True, metadata={"description": "the URL of the next page; null on the last"})
    total = ma.fields.Integer(
        allow_none=True, metadata={"description": "with count=true: the number of matching items; else null"}
    )


PAGING_ARGS = frozenset({"page", "page_size", "cursor", "count"})


def split_paging(arguments: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The paging arguments of a list request, and the rest (its filters)."""
    paging = {k: v for k, v in arguments.items() if k in PAGING_ARGS}
    return paging, {k: v for k, v in arguments.items() if k not in PAGING_ARGS}


def list_answer(
    listing: Listing, paging: dict[str, Any], item: Callable[[Any], dict[str, Any]] = dict
) -> dict[str, Any]:
    """One page of `listing`, by cursor or by page number according to the arguments the list declares."""
    session = db.session()
    size = paging.get("page_size") or current_app.config["PAGE_SIZE_DEFAULT"]
    if "page" in paging:
        rows = page_at(session, listing, size=size, number=paging["page"])
        total = count(session, listing)
        return {"items": [item(r) for r in rows], "page": paging["page"], "page_size": size, "total": total}
    try:
        key = decode_cursor(listing, paging["cursor"]) if paging.get("cursor") else None
    except InvalidCursor:
        message = coded("invalid-cursor", "the cursor is not one this list gave: start again without it")
        abort(422, messages={"query": {"cursor": [message]}})
    rows, next_key = page_after(session, listing, size=size, key=key)
    next_cursor = encode_cursor(next_key) if next_key is not None else None
    return {
        "items": [item(r) for r in rows],
        "page_size": size,
        "next_cursor": next_cursor,
        "next": _next_url(next_cursor) if next_cursor else None,
        "total": count(session, listing) if paging.get("count") else None,
    }


def _next_url(cursor: str) -> str:
    query = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"] + [("cursor", cursor)]
    return f"{request.path}?{urlencode(query)}"


def encode_cursor(key: tuple[Any, ...]) -> str:
    values = [v.isoformat() if isinstance(v, datetime) else v for v in key]
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


class InvalidCursor(ValueError):
    pass


def decode_cursor(listing: Listing, cursor: str) -> tuple[Any, ...]:
    """The key a cursor names, checked against the list's order: a cursor from elsewhere is a 422."""
    invalid = InvalidCursor()
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise invalid from exc
    if not isinstance(values, list) or len(values) != len(listing.order):
        raise invalid
    key = []
    for column, value in zip(listing.order, values, strict=True):
        kind = column.type
        try:
            if isinstance(kind, UTCDateTime) and isinstance(value, str):
                moment = datetime.fromisoformat(value)
                if moment.tzinfo is None:
                    raise ValueError(value)
                key.append(moment)
            elif isinstance(kind, Integer) and isinstance(value, int) and not isinstance(value, bool):
                if not 0 <= value <= 2**31 - 1:
                    raise ValueError(value)
                key.append(value)
            elif isinstance(kind, String) and isinstance(value, str) and "\x00" not in value and len(value) <= 200:
                key.append(value)
            else:
                raise ValueError(value)
        except ValueError as exc:
            raise invalid from exc
    return tuple(key)

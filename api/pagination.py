"""The one pagination helper: page / page_size with a hard cap, exact total, stable order."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from api.errors import coded
from api.extensions import Schema


class PageArgs(Schema):
    page = ma.fields.Integer(
        load_default=1, validate=ma.validate.Range(min=1, max=1_000_000), metadata={"description": "1-based"}
    )
    page_size = ma.fields.Integer(
        load_default=None,
        validate=ma.validate.Range(min=1),
        metadata={"description": "items per page (default 50, at most 500)"},
    )

    @ma.validates("page_size")
    def _within_cap(self, value: int, **_kwargs: Any) -> None:
        limit = current_app.config["PAGE_SIZE_MAX"]
        if value is not None and value > limit:
            raise ma.ValidationError(coded("page-size-too-large", f"page_size may be at most {limit}"))


class PageMetaSchema(Schema):
    page = ma.fields.Integer()
    page_size = ma.fields.Integer()
    total = ma.fields.Integer(metadata={"description": "number of items matching the filters"})


def page_size_of(requested: int | None) -> int:
    return requested or current_app.config["PAGE_SIZE_DEFAULT"]


def paginate(
    session: Session, rows: Select, count_from: Any, where: list[Any], order_by: list[Any], page: int, page_size: int
) -> tuple[list[Any], dict[str, int]]:
    """One page of `rows` filtered by `where` in a stable order, and the page's metadata."""
    total = session.scalar(select(func.count()).select_from(count_from).where(*where)) or 0
    stmt = rows.where(*where).order_by(*order_by).limit(page_size).offset((page - 1) * page_size)
    items = list(session.execute(stmt).mappings())
    return items, {"page": page, "page_size": page_size, "total": total}

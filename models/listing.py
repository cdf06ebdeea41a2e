"""Lists: a statement, its filters (scope included) and a stable order, paged by offset or by keyset.

A `Listing` is what every list of the API is made of; `page_after` reads one page of it after a key (keyset paging:
the same cost however deep the page), `page_at` one page by offset (for the small lists that keep page numbers).
The order must be unique (end it with a unique column) so that no row is skipped or repeated between pages, and an
index must serve it with the filters a list offers, on both backends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, bindparam, func, select, tuple_, union_all
from sqlalchemy.orm import Session

from models.reads import read_rows

_PAGE_LIMIT = bindparam("page_limit", type_=Integer)


@dataclass(frozen=True, eq=False)
class Listing:
    rows: Select  # the columns answered
    where: tuple[ColumnElement[bool], ...]  # filters, the caller's scope included
    order: tuple[Any, ...]  # columns whose values are unique together, in order
    descending: bool = False
    # Values of the bound parameters in `where`, for a listing built once per shape of filters and scope
    # (`models.scope.built_once`) and given each request's values with `replace(listing, params=...)`.
    params: Mapping[str, Any] = field(default_factory=dict)
    # Its first page's statement, made once by `with_first_page` for a listing built once (its copies share it)
    first_page: Select | None = None

    def with_first_page(self) -> Listing:
        return replace(self, first_page=self._ordered().limit(_PAGE_LIMIT))

    def filtered(self, *clauses: ColumnElement[bool]) -> Listing:
        return replace(self, where=(*self.where, *clauses), first_page=None)

    def _ordered(self) -> Select:
        keys = [c.desc() for c in self.order] if self.descending else list(self.order)
        return self.rows.where(*self.where).order_by(*keys)

    def after(self, key: tuple[Any, ...]) -> ColumnElement[bool]:
        """Rows that come after the row whose order values are `key`: a row-value comparison, which both backends
        turn into a range of the index behind the order (an OR of the columns would scan from the start)."""
        if len(self.order) == 1:
            (column,) = self.order
            return column < key[0] if self.descending else column > key[0]
        row, values = tuple_(*self.order), tuple_(*key)
        return row < values if self.descending else row > values

    def key_of(self, row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(row[column.key] for column in self.order)


def prefix_clause(column: Any, prefix: str) -> ColumnElement[bool]:
    """Values starting with `prefix` (digits: codes, mobile numbers), as a range that a plain index serves on both
    backends (a LIKE with a bound pattern is never index-served on PostgreSQL)."""
    following = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return (column >= prefix) & (column < following)


def _after_in_arms(listing: Listing, key: tuple[Any, ...], limit: int) -> Select:
    """The rows after `key` as one arm per order column (the columns before it equal, this one beyond), each
    limited, then merged: SQLite starts an index range on the first column of a row-value comparison only, so rows
    that share that column (assignments all recorded at the same instant) would be scanned up to the key."""
    arms = []
    for i, column in enumerate(listing.order):
        equal = [c == v for c, v in zip(listing.order[:i], key[:i], strict=True)]
        beyond = column < key[i] if listing.descending else column > key[i]
        arms.append(select(listing._ordered().where(*equal, beyond).limit(limit).subquery()))
    merged = union_all(*arms).subquery()
    keys = [merged.c[column.key] for column in listing.order]
    return select(merged).order_by(*[k.desc() for k in keys] if listing.descending else keys)


def page_after(
    session: Session, listing: Listing, *, size: int, key: tuple[Any, ...] | None
) -> tuple[list[dict[str, Any]], tuple[Any, ...] | None]:
    """Up to `size` rows after `key` (from the start when None), and the key of the next page (None at the end)."""
    params = {**listing.params, "page_limit": size + 1}
    if key is None:
        stmt = listing.first_page if listing.first_page is not None else listing._ordered().limit(_PAGE_LIMIT)
    elif len(listing.order) > 1 and session.get_bind().dialect.name == "sqlite":
        stmt = _after_in_arms(listing, key, size + 1).limit(_PAGE_LIMIT)
    else:  # PostgreSQL ranges the whole row value over the index
        stmt = listing._ordered().where(listing.after(key)).limit(_PAGE_LIMIT)
    rows = read_rows(session, stmt, params)
    more = len(rows) > size
    rows = rows[:size]
    return rows, (listing.key_of(rows[-1]) if more else None)


def page_at(session: Session, listing: Listing, *, size: int, number: int) -> list[dict[str, Any]]:
    """Page `number` (from 1) of `size` rows."""
    return read_rows(session, listing._ordered().limit(size).offset((number - 1) * size), dict(listing.params))


def count(session: Session, listing: Listing) -> int:
    """How many rows match: exact, so as slow as reading them all (offer it only where that is cheap or asked)."""
    # Only the order's columns: the answer's costly ones (GeoJSON of a boundary) are not computed to be counted.
    matching = listing.rows.with_only_columns(*listing.order).where(*listing.where).subquery()
    return session.scalar(select(func.count()).select_from(matching), dict(listing.params)) or 0

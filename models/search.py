"""Name search that stays flat as the territory grows: an n-gram index of names, shared by every domain.

`lower(name) LIKE '%…%'` reads a list in its order until a page is full, so a fragment that is rare in a big
territory reads most of the table; no plain index serves a substring, and a trigram index needs three characters
where users type one or two. Here every searchable record has one row in `name_grams` per distinct one- and
two-character substring (gram) of its lowered name, keyed (kind, gram, sort_key, entity_id): the postings of a gram
in the list's own order (`sort_key` is the value the list orders by, the id breaks ties). A search reads one gram's
postings as a range of that key, joins each record by id, and stops when the page is full:

- a fragment of one or two characters: the postings of that very gram are the matching records;
- a longer one: the postings of its rarest bigram (counted up to a cap, in the same statement), each record then
  checked with the substring match as before.

The rows are written by a session hook, in the same transaction as the write that creates or renames a record (as
the audit trail is), so no write can forget them. A domain takes part in two steps: `@searchable("kind",
sort_key=...)` on its mapped class, and `name_search(listing, Model, fragment)` on its listing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sqlalchemy import Integer, String, and_, delete, event, func, insert, inspect, literal, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.functions import FunctionElement

from models.base import Base
from models.listing import Listing

GRAM_LENGTHS = (1, 2)
RAREST_CAP = 1000  # postings counted per bigram when choosing the rarest: enough to tell rare from common
RAREST_CANDIDATES = 8  # distinct bigrams of a long fragment compared (any one is correct: each record is checked)


class NameGram(Base):
    """One gram of one record's lowered name. The primary key is the whole row: the postings of a gram in order."""

    __tablename__ = "name_grams"
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012  (the key is the row: no second copy of it)

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)  # what the record is: "village", "officer", ...
    gram: Mapped[str] = mapped_column(String(2), primary_key=True)
    sort_key: Mapped[str] = mapped_column(String(200), primary_key=True)  # the list's order: a code, a name
    entity_id: Mapped[int] = mapped_column(Integer, primary_key=True)


def grams_of(name: str) -> set[str]:
    """The distinct one- and two-character substrings of the lowered name."""
    text = name.lower()
    return {text[i : i + n] for n in GRAM_LENGTHS for i in range(len(text) - n + 1)}


@dataclass(frozen=True)
class Searchable:
    kind: str
    sort_key: str  # the attribute the list orders by (then by id)
    name: str = "name"


_SEARCHABLE: dict[type, Searchable] = {}
T = TypeVar("T", bound=type)


def searchable(kind: str, *, sort_key: str, name: str = "name") -> Callable[[T], T]:
    """Class decorator: the records of this mapped class are searchable by `name`, in a list ordered by `sort_key`
    (then by id). `kind` names them in `name_grams`, once across all domains."""

    def register(model: T) -> T:
        if any(s.kind == kind for s in _SEARCHABLE.values()):
            raise ValueError(f"the kind {kind!r} is taken")
        _SEARCHABLE[model] = Searchable(kind, sort_key, name)
        return model

    return register


# ---- the read side ---------------------------------------------------------------------------------------------


def name_search(listing: Listing, model: type, fragment: str) -> Listing:
    """`listing` narrowed to the records of `model` whose lowered name contains the lowered `fragment` (`%` and `_`
    are literal), read in the listing's order from the gram index.

    The listing must select `model`'s rows (its columns under their own keys) and be ordered by the sort key
    alone (a unique one, such as a code) or by the sort key then the id. Those columns are answered from the gram
    row, which holds the same values, so that the order, the keyset and the rows all come from the index. The join
    names the whole key (sort key and id too): with a more selective filter beside the name (a township), the
    planner starts from that filter's index and probes each record's posting instead."""
    spec = _SEARCHABLE[model]
    table = model.__table__
    gram_columns = {spec.sort_key: NameGram.sort_key, "id": NameGram.entity_id}
    keys = tuple(column.key for column in listing.order)
    if keys not in ((spec.sort_key,), (spec.sort_key, "id")):
        raise ValueError(f"a name search serves an order by {spec.sort_key} (then id), not {keys}")
    swapped = {key: gram_columns[key].label(key) for key in keys}
    columns = [swapped.get(column.key, column) for column in listing.rows.selected_columns]
    text = fragment.lower()
    clauses = [NameGram.kind == spec.kind, NameGram.gram == _gram_of(spec.kind, text)]
    if len(text) > max(GRAM_LENGTHS):  # each posting is a candidate: check the whole fragment
        clauses.append(_Position(func.lower(table.c[spec.name]), text) > 0)
    on = and_(NameGram.entity_id == table.c.id, NameGram.kind == spec.kind, NameGram.sort_key == table.c[spec.sort_key])
    rows = listing.rows.with_only_columns(*columns).join_from(table, NameGram, on)
    return replace(listing, rows=rows, order=tuple(swapped[key] for key in keys), first_page=None).filtered(*clauses)


def _gram_of(kind: str, text: str) -> Any:
    """The gram whose postings a search reads: the fragment itself when it is one, else its rarest bigram (fewest
    postings up to the cap, then the first in text order), chosen by the database as it runs the search."""
    if len(text) <= max(GRAM_LENGTHS):
        return text
    bigrams = list(dict.fromkeys(text[i : i + 2] for i in range(len(text) - 1)))[:RAREST_CANDIDATES]
    if len(bigrams) == 1:
        return bigrams[0]
    arms = []
    for bigram in bigrams:
        postings = select(literal(1)).where(NameGram.kind == kind, NameGram.gram == bigram).limit(RAREST_CAP)
        found = select(func.count()).select_from(postings.subquery()).scalar_subquery()
        arms.append(select(literal(bigram, String).label("gram"), found.label("n")))
    counted = union_all(*arms).subquery()
    return select(counted.c.gram).order_by(counted.c.n, counted.c.gram).limit(1).scalar_subquery()


class _Position(FunctionElement):
    """Where a text first holds another (from 1; 0 when it does not): `strpos` on PostgreSQL, `instr` on SQLite.

    A substring test with nothing to escape, which the planners price as an unknown condition (a third of the
    rows); a `LIKE '%…%'` is priced as matching almost nothing, and PostgreSQL then reads the whole table rather
    than the postings in order."""

    type = Integer()
    inherit_cache = True


@compiles(_Position)
def _strpos(element: _Position, compiler: Any, **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"


@compiles(_Position, "sqlite")
def _instr(element: _Position, compiler: Any, **kw: Any) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


# ---- the write side: a session hook, like the audit trail ---------------------------------------------------------


def _changed(obj: Any, spec: Searchable) -> bool:
    state = inspect(obj)
    return any(state.attrs[key].history.has_changes() for key in (spec.name, spec.sort_key))


def _before(obj: Any, key: str) -> Any:
    """The attribute's value before this flush (None when it was never loaded)."""
    history = inspect(obj).attrs[key].history
    values = history.deleted or history.unchanged
    return values[0] if values else None


def _postings_of(spec: Searchable, obj: Any) -> Any:
    """The gram rows of the record as it was before this flush: exact keys, so that a rename deletes them through
    the primary key instead of reading every posting of the kind."""
    name, sort_key = _before(obj, spec.name), _before(obj, spec.sort_key)
    where = [NameGram.kind == spec.kind, NameGram.entity_id == obj.id]
    if name is not None and sort_key is not None:
        where += [NameGram.gram.in_(sorted(grams_of(name))), NameGram.sort_key == sort_key]
    return delete(NameGram).where(*where)


@event.listens_for(Session, "after_flush")
def _keep_grams(session: Session, _context: Any) -> None:
    """Grams of the records created, renamed or deleted by this flush, written in its transaction."""
    stale: list[Any] = []
    fresh: list[tuple[Searchable, Any]] = []
    for obj in session.new:
        if (spec := _SEARCHABLE.get(type(obj))) is not None:
            fresh.append((spec, obj))
    for obj in session.dirty:
        if (spec := _SEARCHABLE.get(type(obj))) is not None and _changed(obj, spec):
            stale.append(_postings_of(spec, obj))
            fresh.append((spec, obj))
    for obj in session.deleted:
        if (spec := _SEARCHABLE.get(type(obj))) is not None:
            stale.append(_postings_of(spec, obj))
    if not stale and not fresh:
        return
    connection = session.connection()
    for statement in stale:
        connection.execute(statement)
    rows = [
        {"kind": spec.kind, "gram": gram, "sort_key": getattr(obj, spec.sort_key), "entity_id": obj.id}
        for spec, obj in fresh
        for gram in sorted(grams_of(getattr(obj, spec.name)))
    ]
    if rows:
        connection.execute(insert(NameGram.__table__), rows)

"""The audit trail: every write to a ledger or register, who made it, when, and the values before and after.

Written by a session hook, in the same transaction as the change itself, so that no write can forget it and no
event can describe a change that was rolled back. The table is append-only: the code inserts into it and nothing
else; there is no endpoint that changes or deletes an event.

The caller is taken from `session.info["actor"]` (a `models.roles.Caller`); an audited write without one is a bug
and fails.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

from geoalchemy2 import WKBElement
from geoalchemy2.shape import to_shape
from sqlalchemy import JSON, ColumnElement, Index, Integer, String, event, insert, inspect, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from geo.geojson import to_geojson
from models.base import Base, UTCDateTime, utcnow
from models.listing import Listing

JSONType = JSON().with_variant(JSONB(), "postgresql")


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_entity_type_entity_id", "entity_type", "entity_id"),
        # the list's filters, each with its order (newest first)
        Index("ix_audit_events_actor_user_id_id", "actor_user_id", "id"),
        Index("ix_audit_events_township_id_id", "township_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: the system
    actor: Mapped[str] = mapped_column(String(50))  # the username at the time
    action: Mapped[str] = mapped_column(String(30))
    entity_type: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[int] = mapped_column(Integer)
    township_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    before: Mapped[dict | None] = mapped_column(JSONType, nullable=True)
    after: Mapped[dict | None] = mapped_column(JSONType, nullable=True)


class Audited:
    """Mixin of the classes whose writes are audited.

    `__audit_exclude__`: attributes never recorded (secrets, counters). `__audit_actions__`: an attribute whose
    change names the action better than "update", e.g. {"retired_at": "retire"} (checked in order).
    """

    __audit_exclude__: tuple[str, ...] = ("version",)
    __audit_actions__: tuple[tuple[str, str], ...] = ()


def _plain(value: Any) -> Any:
    """A column value as JSON: times in ISO 8601, geometry as GeoJSON."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, WKBElement):
        return to_geojson(to_shape(value))
    return value


def _event(obj: Audited, *, created: bool) -> dict[str, Any] | None:
    state = inspect(obj)
    excluded = set(obj.__audit_exclude__) | {"version"}
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in excluded:
            continue
        if created:
            after[key] = _plain(getattr(obj, key))
            continue
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if _plain(old) == _plain(new):
            continue
        before[key], after[key] = _plain(old), _plain(new)
    if not created and not after:
        return None
    action = "create" if created else "update"
    if not created:
        for key, name in obj.__audit_actions__:
            if key in after:
                action = name
                break
    township_id = obj.id if obj.__tablename__ == "townships" else getattr(obj, "township_id", None)
    return {
        "action": action,
        "entity_type": obj.__tablename__,
        "entity_id": obj.id,
        "township_id": township_id,
        "before": before or None,
        "after": after,
    }


@event.listens_for(Session, "after_flush")
def _record(session: Session, _context: Any) -> None:
    events = [_event(obj, created=True) for obj in session.new if isinstance(obj, Audited)]
    events += [_event(obj, created=False) for obj in session.dirty if isinstance(obj, Audited)]
    events = [e for e in events if e is not None]
    if any(isinstance(obj, Audited) for obj in session.deleted):
        raise RuntimeError("audited records are never deleted")
    if not events:
        return
    actor = session.info.get("actor")
    if actor is None:
        raise RuntimeError("an audited write needs session.info['actor'] (the caller)")
    now = utcnow()
    rows = [{"occurred_at": now, "actor_user_id": actor.user_id, "actor": actor.username, **e} for e in events]
    session.connection().execute(insert(AuditEvent.__table__), rows)


def audited_entity_types() -> tuple[str, ...]:
    """The tables whose writes are audited (every mapped `Audited` class), sorted."""
    return tuple(sorted(m.class_.__tablename__ for m in Base.registry.mappers if issubclass(m.class_, Audited)))


def audit_listing(
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    **equals: Any,
) -> Listing:
    """Audit events, newest first: column equalities (entity, actor, action, township) and a time window.

    County administrators only (the endpoint's rule): events carry no row rule of their own."""
    where: list[ColumnElement[bool]] = [getattr(AuditEvent, key) == value for key, value in equals.items()]
    if since is not None:
        where.append(AuditEvent.occurred_at >= since)
    if until is not None:
        where.append(AuditEvent.occurred_at < until)
    return Listing(select(*AuditEvent.__table__.columns), tuple(where), (AuditEvent.id,), descending=True)

"""Every write lock of the application: its key builders, and the one order in which they are taken.

On PostgreSQL a lock is a transaction-scoped advisory lock on the key; SQLite has a single write lock for
everything (BEGIN IMMEDIATE), which the keys do not change. Two writes that take locks in the same order never wait
on each other in a circle, so `models.base.write_transaction` sorts the keys it is given by `ORDER`, and refuses a
later call in the same transaction that would take a kind earlier in the order than one already held.

No lock key is spelt anywhere else: call the builders below.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from enum import Enum


class LockKind(Enum):
    """The kinds of lock, in the order they are taken (first listed, first taken)."""

    ACCOUNTS = "accounts"  # every account write: usernames, officer links, "another administrator remains"
    CELLS_OF_VILLAGE = "cells-of-village"  # the cells of one village: drawing, redrawing, retiring them
    VILLAGES_OF_TOWNSHIP = "villages-of-township"  # the villages of one township
    TOWNSHIPS = "townships"  # the townships of the county
    DEPARTMENTS = "departments"  # the county's departments and sectors: codes and names, retiring
    TEAM = "team"  # a cell's team (its current assignments), and retiring the cell
    OFFICER = "officer"  # an officer being active: assigning them, deactivating them
    MOBILE = "mobile"  # a mobile number being free among active officers
    REFRESH_TOKEN = "refresh-token"  # one use of one refresh token at a time
    AUTH_SESSION = "auth-session"  # a login session's token chain
    PATROL = "patrol"  # one patrol record's UUID (sent again at once, stored once); before its findings' places
    PLACES = "places"  # where things stand: enterprises' locations and the boundaries that place them
    CREDIT_CODE = "credit-code"  # a credit code being free among live enterprises
    HAZARD_NUMBERS = "hazard-numbers"  # the next hazard number of one township and year
    HAZARD = "hazard"  # one hazard's state: its steps are taken one at a time
    HOLIDAY_CALENDAR = "holiday-calendar"  # one year of the official holiday calendar
    DUTY_PERIOD = "duty-period"  # one duty period: its changes one at a time
    DUTY_PERIOD_NAME = "duty-period-name"  # a name being free among the periods not cancelled


ORDER = {kind: rank for rank, kind in enumerate(LockKind)}


@dataclass(frozen=True, order=True)
class LockKey:
    rank: int
    kind: LockKind
    name: str

    @property
    def advisory_id(self) -> int:
        """The PostgreSQL advisory lock id of this key."""
        return zlib.crc32(f"{self.kind.value}:{self.name}".encode())


def _key(kind: LockKind, name: object) -> LockKey:
    return LockKey(ORDER[kind], kind, str(name))


def accounts(*_ignored: object) -> LockKey:
    """One lock for all account writes (they are few)."""
    return _key(LockKind.ACCOUNTS, "all")


def children_of(level_key: str, parent_id: int | None) -> LockKey:
    """The units of a level under one parent (`level_key`: the level of the children; parent 0: the county)."""
    kind = {
        "grid_cell": LockKind.CELLS_OF_VILLAGE,
        "village": LockKind.VILLAGES_OF_TOWNSHIP,
        "township": LockKind.TOWNSHIPS,
    }[level_key]
    return _key(kind, parent_id or 0)


def departments(*_ignored: object) -> LockKey:
    """One lock for the departments and sectors of the county (they are few and change rarely)."""
    return _key(LockKind.DEPARTMENTS, "all")


def team(cell_id: int) -> LockKey:
    return _key(LockKind.TEAM, cell_id)


def officer(officer_id: int) -> LockKey:
    return _key(LockKind.OFFICER, officer_id)


def mobile(number: str) -> LockKey:
    return _key(LockKind.MOBILE, number)


def refresh_token(digest: str) -> LockKey:
    return _key(LockKind.REFRESH_TOKEN, digest)


def auth_session(session_id: int) -> LockKey:
    return _key(LockKind.AUTH_SESSION, session_id)


def places(*_ignored: object) -> LockKey:
    """One lock for placing things on the map: writing a location and drawing a boundary exclude each other, so that
    no place is derived from a boundary that is being redrawn."""
    return _key(LockKind.PLACES, "all")


def credit_code(code: str) -> LockKey:
    return _key(LockKind.CREDIT_CODE, code)


def hazard_numbers(township_id: int | None, year: int) -> LockKey:
    return _key(LockKind.HAZARD_NUMBERS, f"{township_id or 0}:{year}")


def hazard(hazard_id: int) -> LockKey:
    return _key(LockKind.HAZARD, hazard_id)


def patrol(uuid: str) -> LockKey:
    return _key(LockKind.PATROL, uuid)


def holiday_calendar(year: int) -> LockKey:
    return _key(LockKind.HOLIDAY_CALENDAR, year)


def duty_period(period_id: int) -> LockKey:
    return _key(LockKind.DUTY_PERIOD, period_id)


def duty_period_name(name: str) -> LockKey:
    return _key(LockKind.DUTY_PERIOD_NAME, name)

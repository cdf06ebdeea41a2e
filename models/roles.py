"""Roles and the caller: who is asking, and what their role lets them be. Imports no model.

Roles gate the verbs (each endpoint declares the roles it admits); which rows a caller reaches is the business of
`models.scope`.

| role            | scope                                                                        |
|-----------------|------------------------------------------------------------------------------|
| county_admin    | the whole county                                                             |
| township_leader | one township                                                                 |
| grid_officer    | the cells they are assigned to now (and those cells' village and township),  |
|                 | their own officer record and the assignments of their cells                  |
| viewer          | read-only: one township, or the whole county when it has none                |
| department_staff| county-wide, read-only on territory and people; of enterprises, those their  |
|                 | department supervises (and, with hazards, theirs)                            |
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    COUNTY_ADMIN = "county_admin"
    TOWNSHIP_LEADER = "township_leader"
    GRID_OFFICER = "grid_officer"
    VIEWER = "viewer"
    DEPARTMENT_STAFF = "department_staff"

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    Role.COUNTY_ADMIN: "county administrator (县级管理员)",
    Role.TOWNSHIP_LEADER: "township leader (乡镇领导)",
    Role.GRID_OFFICER: "grid officer (网格员)",
    Role.VIEWER: "viewer (只读)",
    Role.DEPARTMENT_STAFF: "department staff (行业部门)",
}
ALL_ROLES = frozenset(Role)
MANAGERS = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_LEADER})


@dataclass(frozen=True)
class Caller:
    """Who is asking: an authenticated user, or the system itself (command-line tools)."""

    user_id: int | None
    username: str
    role: Role
    township_id: int | None = None
    officer_id: int | None = None
    session_id: int | None = None
    department_id: int | None = None

    @property
    def county_wide(self) -> bool:
        return self.role is Role.COUNTY_ADMIN or (self.role is Role.VIEWER and self.township_id is None)


SYSTEM = Caller(user_id=None, username="system", role=Role.COUNTY_ADMIN)

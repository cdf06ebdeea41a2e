"""A synthetic county, deterministic by seed, loaded through the same service functions (and rules) as the API."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime

from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from geo.tiling import blob, voronoi_split
from models.accounts.service import create_user
from models.demo_duty import load_demo_duty
from models.demo_enterprises import load_demo_enterprises
from models.demo_hazards import load_demo_hazards
from models.demo_patrols import load_demo_patrols
from models.files import FileStore
from models.people import AssignmentRole
from models.people.officers import create_officer
from models.people.service import assign
from models.roles import SYSTEM, Role
from models.territory import GRID_CELL, TOWNSHIP, VILLAGE, Level, Township
from models.territory.service import create_unit

COUNTY_CODE = "430199"  # fictional: Hunan prefix, unused county number
COUNTY_CENTRE = (113.2, 28.1)
_FIRST = "青白红金银石龙凤云山河湖松竹梅兰桃李杨柳新古东西南北上下大小长平安和福德兴旺丰泉溪"
_SECOND = "山峰岭坪塘湾桥港口坝冲田园林庄铺店寺岗坡洲湖江源水港家"


def _split_counts(total: int, weights: list[float]) -> list[int]:
    """Split `total` in proportion to `weights`, at least one each (largest remainders)."""
    total = max(total, len(weights))
    spare = total - len(weights)
    shares = [w / sum(weights) * spare for w in weights]
    counts = [1 + int(share) for share in shares]
    for i in sorted(range(len(weights)), key=lambda i: shares[i] - int(shares[i]), reverse=True)[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _names(rng: random.Random, n: int, suffixes: list[str]) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        stem = rng.choice(_FIRST) + rng.choice(_SECOND)
        if stem not in seen:
            seen.add(stem)
            names.append(stem + suffixes[len(names)])
    return names


@dataclass(frozen=True)
class PlannedUnit:
    level: Level
    code: str
    name: str
    shape: BaseGeometry
    parent_code: str | None


def plan_county(*, seed: int = 42, townships: int = 20, villages: int = 300, cells: int = 1500) -> list[PlannedUnit]:
    """A county as townships split into villages split into cells, each level a Voronoi tiling of its parent.

    Pure and deterministic: the same arguments give the same county, parents before their children.
    """
    rng = random.Random(seed)
    county = blob(COUNTY_CENTRE, 30_000, rng)
    township_shapes = voronoi_split(county, townships, rng)
    village_counts = _split_counts(villages, [t.area for t in township_shapes])
    cell_totals = _split_counts(cells, [t.area for t in township_shapes])
    streets = max(1, len(township_shapes) // 6)  # the first few, nearest the seat, are urban sub-districts
    kinds = [
        "街道" if i < streets else "镇" if i < len(township_shapes) * 2 // 3 else "乡"
        for i in range(len(township_shapes))
    ]
    plan: list[PlannedUnit] = []
    township_names = _names(rng, len(township_shapes), kinds)
    for t_index, t_shape in enumerate(township_shapes):
        kind = kinds[t_index]
        serial = {"街道": 1, "镇": 101, "乡": 201}[kind] + kinds[:t_index].count(kind)
        t_code = f"{COUNTY_CODE}{serial:03d}"
        plan.append(PlannedUnit(TOWNSHIP, t_code, township_names[t_index], t_shape, None))

        urban = kind == "街道"
        village_shapes = voronoi_split(t_shape, village_counts[t_index], rng)
        village_names = _names(rng, len(village_shapes), ["社区" if urban else "村"] * len(village_shapes))
        cell_counts = _split_counts(cell_totals[t_index], [v.area for v in village_shapes])
        for v_index, v_shape in enumerate(village_shapes):
            v_code, v_name = f"{t_code}{(1 if urban else 201) + v_index:03d}", village_names[v_index]
            plan.append(PlannedUnit(VILLAGE, v_code, v_name, v_shape, t_code))
            for c_index, c_shape in enumerate(voronoi_split(v_shape, cell_counts[v_index], rng)):
                plan.append(
                    PlannedUnit(
                        GRID_CELL, f"{v_code}{c_index + 1:03d}", f"{v_name}第{c_index + 1}网格", c_shape, v_code
                    )
                )
    return plan


DEMO_PASSWORD = "gridpatrol-demo"  # documented in the README; the demo is for looking around, not for production
DEMO_ACCOUNTS = (
    # username, display name, role
    ("admin", "县安委办管理员", Role.COUNTY_ADMIN),
    ("leader", "街道分管领导", Role.TOWNSHIP_LEADER),
    ("officer", "网格长", Role.GRID_OFFICER),
    ("viewer", "县安委办查询", Role.VIEWER),
    ("dept", "县应急管理局 安全监管科", Role.DEPARTMENT_STAFF),
)
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红文斌辉鹏宇浩凯健俊帆"
_SINCE = datetime(2025, 1, 1, 8, 30, tzinfo=UTC)  # when the demo county's grids were first staffed
_HANDOVER = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # a round of reassignments, so that history has something in it


def load_demo_county(
    session: Session,
    *,
    seed: int = 42,
    townships: int = 20,
    villages: int = 300,
    cells: int = 1500,
    if_empty: bool = False,
    people: bool = True,
    enterprises: int = 5000,
    hazards: int = 2000,
    patrols: int = 3000,
    photos: FileStore | None = None,
    password: str = DEMO_PASSWORD,
) -> dict[str, int] | None:
    """Load `plan_county(...)` through the service functions, so the demo obeys every rule the API enforces.

    With `enterprises`, the county's departments and that many enterprises (see `models.demo_enterprises`). With
    `people`, also officers (two or three per village), their assignments with a past handover, a few cells left
    without an owner, and one user account per role (see DEMO_ACCOUNTS, all with `password`; the department account
    belongs to the first department, the 应急管理局). With `hazards`, enterprises and people, that many hazards in the
    ledger, each with its signed steps (see `models.demo_hazards`); `photos` is the file store their photos go to
    (without one, none is rectified on the spot: that step rests on a photo). With `patrols`, enterprises and people,
    that many patrol records of the ninety days before, stored as uploads are (see `models.demo_patrols`). With
    `people`, the 2027 holiday calendar and two duty periods (see `models.demo_duty`).
    With `if_empty`, nothing happens (and None is returned) when the database already holds townships.
    """
    has_townships = session.scalar(select(func.count()).select_from(Township))
    session.rollback()  # each write starts its own transaction
    if if_empty and has_townships:
        return None
    session.info["actor"] = SYSTEM
    ids: dict[str, int] = {}
    counts = {"townships": 0, "villages": 0, "cells": 0}
    cells_of: dict[str, list[int]] = {}
    for unit in plan_county(seed=seed, townships=townships, villages=villages, cells=cells):
        parent_id = ids[unit.parent_code] if unit.parent_code else None
        created = create_unit(
            session,
            caller=SYSTEM,
            level=unit.level,
            code=unit.code,
            name=unit.name,
            boundary=unit.shape,
            parent_id=parent_id,
        )
        ids[unit.code] = created.id
        counts[{"township": "townships", "village": "villages", "grid_cell": "cells"}[unit.level.key]] += 1
        if unit.level is GRID_CELL:
            cells_of.setdefault(unit.parent_code, []).append(created.id)
    department_id = None
    if enterprises:
        placed = load_demo_enterprises(session, seed=seed + 2, count=enterprises, centre=COUNTY_CENTRE)
        department_id = placed.pop("first_department_id")
        counts |= placed
    if people:
        counts |= _load_people(session, random.Random(seed + 1), cells_of, ids, password, department_id)
    if hazards and enterprises and people:
        counts |= load_demo_hazards(session, seed=seed + 3, count=hazards, photos=photos)
    if patrols and enterprises and people:
        counts |= load_demo_patrols(session, seed=seed + 4, count=patrols)
    if people:
        counts |= load_demo_duty(session)
    # Fresh statistics: planned on the empty tables, "cells without an owner" took 100 ms on PostgreSQL, not 1 ms.
    session.execute(text("ANALYZE"))
    session.commit()
    return counts


def _load_people(
    session: Session,
    rng: random.Random,
    cells_of: dict[str, list[int]],
    ids: dict[str, int],
    password: str,
    department_id: int | None,
) -> dict[str, int]:
    counts = {"officers": 0, "assignments": 0, "users": 0}
    mobiles = rng.sample(range(10_000_000, 100_000_000), sum(len(c) // 2 + 2 for c in cells_of.values()))
    first_township_code = min(code for code in ids if len(code) == 9)
    first_owner: int | None = None  # the demo officer account: a current owner in the demo leader's township

    def put(cell_id: int, officer_id: int, role: AssignmentRole, reason: str, since: datetime) -> None:
        assign(
            session, caller=SYSTEM, cell_id=cell_id, officer_id=officer_id, role=role, reason=reason, valid_from=since
        )
        counts["assignments"] += 1

    for village_code, cell_ids in cells_of.items():
        township_id = ids[village_code[:9]]
        officers = []
        for _ in range(len(cell_ids) // 2 + 2):
            name = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))
            officer = create_officer(
                session,
                caller=SYSTEM,
                name=name,
                mobile=f"139{mobiles[counts['officers']]:08d}",
                township_id=township_id,
                title=rng.choice(("网格员", "网格员", "村安全员", "村委委员")),
            )
            officers.append(officer.id)
            counts["officers"] += 1
        for index, cell_id in enumerate(cell_ids):
            if rng.random() < 0.03:
                continue  # left without an owner: something for a leader's to-do list
            owner = officers[index % len(officers)]
            owners = {owner}
            put(cell_id, owner, AssignmentRole.OWNER, "首次划定网格", _SINCE)
            if rng.random() < 0.2 and len(officers) > 2:
                owner = officers[(index + 1) % len(officers)]
                owners.add(owner)
                put(cell_id, owner, AssignmentRole.OWNER, "网格长调整", _HANDOVER)
            if first_owner is None and village_code.startswith(first_township_code):
                first_owner = owner
            member = next(o for o in reversed(officers) if o not in owners)
            if rng.random() < 0.5:
                put(cell_id, member, AssignmentRole.MEMBER, "协助巡查", _SINCE)
    first_township = ids[first_township_code]
    for username, display_name, role in DEMO_ACCOUNTS:
        if role is Role.DEPARTMENT_STAFF and department_id is None:
            continue  # a demo without enterprises has no departments
        create_user(
            session,
            caller=SYSTEM,
            username=username,
            display_name=display_name,
            password=password,
            role=role,
            township_id=first_township if role is Role.TOWNSHIP_LEADER else None,
            officer_id=first_owner if role is Role.GRID_OFFICER else None,
            department_id=department_id if role is Role.DEPARTMENT_STAFF else None,
        )
        counts["users"] += 1
    return counts

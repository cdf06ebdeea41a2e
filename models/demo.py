"""A synthetic county, deterministic by seed, loaded through the same service functions (and rules) as the API."""

from __future__ import annotations

import random
from dataclasses import dataclass

from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.tiling import blob, voronoi_split
from models.territory import GRID_CELL, TOWNSHIP, VILLAGE, Level, Township
from models.territory_service import create_unit

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


def load_demo_county(
    session: Session,
    *,
    seed: int = 42,
    townships: int = 20,
    villages: int = 300,
    cells: int = 1500,
    if_empty: bool = False,
) -> dict[str, int] | None:
    """Load `plan_county(...)` through `create_unit`, so the demo obeys every rule the API enforces.

    With `if_empty`, nothing happens (and None is returned) when the database already holds townships.
    """
    has_townships = session.scalar(select(func.count()).select_from(Township))
    session.rollback()  # each write starts its own transaction
    if if_empty and has_townships:
        return None
    ids: dict[str, int] = {}
    counts = {"townships": 0, "villages": 0, "cells": 0}
    for unit in plan_county(seed=seed, townships=townships, villages=villages, cells=cells):
        parent_id = ids[unit.parent_code] if unit.parent_code else None
        created = create_unit(
            session, level=unit.level, code=unit.code, name=unit.name, boundary=unit.shape, parent_id=parent_id
        )
        ids[unit.code] = created.id
        counts[{"township": "townships", "village": "villages", "grid_cell": "cells"}[unit.level.key]] += 1
    return counts

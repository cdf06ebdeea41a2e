"""The demo county's departments and enterprises: deterministic by seed, clustered in the township seats and along a
river, with realistic sectors, risk colours, key levels and a few major hazard sources.

The departments go through the departments service (every rule checked). The enterprises, thousands of them, are
written in one transaction the way `models.enterprises.service.create_enterprise` writes one: credit codes with
their check character, places derived in bulk (`places_of`), departments from the sector; the audit trail and the
name index follow through their session hooks.
"""

from __future__ import annotations

import math
import random
from datetime import date

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from geo import SRID
from models import locks
from models.base import utcnow, write_transaction
from models.departments.queries import departments_of_sector
from models.departments.service import create_department
from models.enterprises.credit_code import ALPHABET, check_character
from models.enterprises.model import Enterprise, EnterpriseDepartment
from models.enterprises.places import places_of
from models.roles import SYSTEM
from models.territory import GridCell, Township

DEMO_DEPARTMENTS = (
    ("YJJ", "县应急管理局", "0731-55550110", ("hazardous_chemicals", "non_coal_mine", "coal_mine", "fireworks",
                                              "industry_trade")),
    ("ZJJ", "县住房和城乡建设局", "0731-55550220", ("construction", "gas")),
    ("SJJ", "县市场监督管理局", "0731-55550330", ("special_equipment",)),
    ("JTJ", "县交通运输局", "0731-55550440", ("road_transport", "waterway_transport")),
    ("XFJ", "县消防救援大队", "0731-55550119", ("crowded_place",)),
)  # fmt: skip

# sector: (share of the enterprises, name endings)
_SECTORS = {
    "industry_trade": (30, ("机械制造有限公司", "建材有限公司", "纺织有限公司", "食品有限公司", "五金厂")),
    "crowded_place": (18, ("商贸城", "大酒店", "超市", "KTV", "宾馆")),
    "construction": (10, ("建筑工程有限公司", "项目部")),
    "road_transport": (8, ("物流有限公司", "客运站", "运输有限公司")),
    "hazardous_chemicals": (8, ("化工有限公司", "加油站", "危化品仓储有限公司")),
    "gas": (5, ("燃气有限公司", "液化气站")),
    "special_equipment": (5, ("电梯维保有限公司", "锅炉房")),
    "non_coal_mine": (4, ("采石场", "矿业有限公司")),
    "fireworks": (3, ("烟花爆竹批发部", "鞭炮厂")),
    "waterway_transport": (2, ("航运有限公司", "渡口")),
    "other": (7, ("有限公司", "经营部")),
}
_STEMS = "青白红金银石龙凤云山河湖松竹梅兰桃李杨柳新古东西南北安和福德兴旺丰泉溪鑫宏盛华达利通"


def river_line(centre: tuple[float, float], rng: random.Random) -> LineString:
    """A river winding west to east through the county (about 60 km)."""
    lon0, lat0 = centre
    points = []
    for i in range(41):
        t = i / 40
        points.append((lon0 - 0.3 + 0.6 * t, lat0 - 0.05 + 0.08 * math.sin(t * 5.5) + rng.uniform(-0.004, 0.004)))
    return LineString(points)


def point_inside(area: BaseGeometry, rng: random.Random) -> tuple[float, float]:
    """A random point inside `area` (its representative point if a hundred draws miss it)."""
    minx, miny, maxx, maxy = area.bounds
    for _ in range(100):
        lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if area.contains(Point(lon, lat)):
            return lon, lat
    point = area.representative_point()
    return point.x, point.y


def _credit_code(rng: random.Random, used: set[str]) -> str:
    while True:
        first17 = "91430199" + "".join(rng.choice(ALPHABET) for _ in range(9))
        code = first17 + check_character(first17)
        if code not in used:
            used.add(code)
            return code


def load_demo_enterprises(session: Session, *, seed: int, count: int, centre: tuple[float, float]) -> dict[str, int]:
    """The departments, then `count` enterprises. Answers the counts and the id of the first department (for the
    demo department account)."""
    rng = random.Random(seed)
    department_ids = []
    for code, name, phone, sectors in DEMO_DEPARTMENTS:
        department = create_department(session, caller=SYSTEM, code=code, name=name, duty_phone=phone, sectors=sectors)
        department_ids.append(department.id)
    seats = [(t.centroid_lon, t.centroid_lat) for t in session.scalars(select(Township).order_by(Township.code))]
    # one in every cell first (every grid has its shops and workshops), the rest clustered
    cells = [to_shape(b) for b in session.scalars(select(GridCell.boundary).order_by(GridCell.id))]
    session.rollback()
    river = river_line(centre, rng)
    sectors = list(_SECTORS)
    weights = [_SECTORS[s][0] for s in sectors]
    used: set[str] = set()
    rows = []
    for n in range(count):
        sector = rng.choices(sectors, weights)[0]
        if n < len(cells):
            lon, lat = point_inside(cells[n], rng)
        elif sector in ("hazardous_chemicals", "waterway_transport") and rng.random() < 0.6:
            along = river.interpolate(rng.random(), normalized=True)  # 临江临河: by the river
            lon, lat = along.x + rng.gauss(0, 0.004), along.y + rng.gauss(0, 0.004)
        else:
            seat_lon, seat_lat = rng.choice(seats)  # clustered around the township seats
            lon, lat = seat_lon + rng.gauss(0, 0.012), seat_lat + rng.gauss(0, 0.01)
        licensed = sector in ("hazardous_chemicals", "fireworks", "non_coal_mine")
        major = rng.random() < (0.3 if sector == "hazardous_chemicals" else 0.01)
        risk = rng.choices(("red", "orange", "yellow", "blue"), (1, 6, 33, 60))[0]
        if major:
            risk = rng.choice(("red", "orange"))
        rows.append(
            {
                "name": rng.choice(_STEMS) + rng.choice(_STEMS) + rng.choice(_SECTORS[sector][1]) + f"{n % 97 or ''}",
                "credit_code": _credit_code(rng, used),
                "sector": sector,
                "risk_level": risk,
                "major_hazard_grade": rng.choice((1, 2, 3, 3, 4, 4)) if major else None,
                "key_level": rng.choices(("none", "township", "county", "city", "province"), (88, 6, 4, 1.5, 0.5))[0],
                "scale": rng.choice(("above_designated", "small_medium", "micro", "micro")),
                "status": rng.choices(("operating", "suspended", "seasonal_stop"), (94, 3, 3))[0],
                "licence_number": f"(湘)WH安许证字[{rng.randint(2022, 2025)}]{n:06d}" if licensed else None,
                "licence_expires_on": date(2026 + rng.randint(0, 3), rng.randint(1, 12), rng.randint(1, 28))
                if licensed
                else None,
                "legal_representative": rng.choice("王李张刘陈杨黄赵吴周") + rng.choice("伟芳娜敏静丽强磊军洋"),
                "duty_phone": f"0731-5{rng.randint(1000000, 9999999)}",
                "lon": round(lon, 7),
                "lat": round(lat, 7),
            }
        )  # fmt: skip
    session.info["actor"] = SYSTEM
    places = places_of(session, caller=SYSTEM, points=[(r["lon"], r["lat"]) for r in rows])
    by_sector = {s: departments_of_sector(session, caller=SYSTEM, sector=s) for s in sectors}
    session.rollback()

    write_transaction(session, locks.places())
    now = utcnow()
    enterprises = []
    for row, place in zip(rows, places, strict=True):
        enterprise = Enterprise(
            **row,
            location=from_shape(Point(row["lon"], row["lat"]), srid=SRID),
            department_ids=by_sector[row["sector"]],
            departments_set=False,
            cell_id=place.cell_id,
            village_id=place.village_id,
            township_id=place.township_id,
            created_at=now,
            updated_at=now,
        )
        session.add(enterprise)
        enterprises.append(enterprise)
    session.flush()
    links = [{"enterprise_id": e.id, "department_id": d} for e in enterprises for d in e.department_ids]
    if links:
        session.execute(insert(EnterpriseDepartment.__table__), links)
    session.commit()
    return {"departments": len(department_ids), "enterprises": len(rows), "first_department_id": department_ids[0]}

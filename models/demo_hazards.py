"""The demo county's hazard ledger (隐患台账): deterministic by seed, found over the eleven months before the load, each
hazard's life a legal walk of `TRANSITIONS` signed by the demo accounts as `models.hazards.rules` allows.

Written in one transaction the way `models.hazards.service` writes a report and its steps: numbers per township and
year (the county's) in the order of reporting, places derived in bulk (`places_of`), the departments of the enterprise
or of the sector, one `HazardStep` per signed step, the row holding what its steps left (and the version they would
have given it). The hazard rows go through the session, so that the audit trail records each as it records the demo
enterprises (one `create` by the system); departments and steps are bulk inserts (the service does not audit them).

Only the demo accounts sign, each in their scope, and the acceptor is never the rectifier: so every hazard lies where
an account besides the administrator may sign, in the leader's township or in the sectors of the department account.
Times are drawn back from the start of the day of loading (in the county), in working hours (see
`models.demo_hazard_lives`): a load on another day gives the same ledger, its dates moved (and its numbers, when the
eleven months span another new year).

The last three reported (the highest ids) are those docs/hazards.md takes through their lives, in the leader's
township: a major hazard the department account reported with an incomplete plan, a general one the officer reported
in their own cell, and the same one reported again by the leader (a duplicate, to be voided).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from itertools import accumulate
from typing import Any

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from geo import SRID
from models import demo_hazard_texts as texts
from models import locks
from models.accounts.model import User
from models.base import county_today, county_zone, write_transaction
from models.demo_enterprises import point_inside
from models.demo_hazard_lives import PARTIAL, Draft, Life, Signer, day, five_implementations, live, working
from models.departments.queries import departments_of_sector
from models.enterprises.model import Enterprise
from models.enterprises.places import places_of
from models.files import FileStore
from models.hazards.model import Action, Hazard, HazardDepartment, HazardPhoto, HazardStep, Severity, Source
from models.roles import SYSTEM, Caller, Role
from models.scope import officer_current_cells
from models.territory import GridCell, Township, Village

# The demo accounts that sign, by role (the viewer signs nothing)
SIGNING_ROLES = {
    "admin": Role.COUNTY_ADMIN,
    "leader": Role.TOWNSHIP_LEADER,
    "officer": Role.GRID_OFFICER,
    "dept": Role.DEPARTMENT_STAFF,
}
FOUND_OVER_DAYS = 335  # about eleven months
SHOWCASE = 3  # the hazards of docs/hazards.md, the last reported


def demo_signers(session: Session) -> dict[str, Signer]:
    """The first active account of each signing role, by its key in SIGNING_ROLES, as the caller its token stands for
    (and its display name, as it signs)."""
    signers: dict[str, Signer] = {}
    for user in session.scalars(select(User).where(User.deactivated_at.is_(None)).order_by(User.id)):
        key = next((k for k, role in SIGNING_ROLES.items() if role.value == user.role), None)
        if key is not None and key not in signers:
            caller = Caller(
                user_id=user.id,
                username=user.username,
                role=Role(user.role),
                township_id=user.township_id,
                officer_id=user.officer_id,
                department_id=user.department_id,
            )
            signers[key] = Signer(caller, user.display_name)
    return signers


class County:
    """What the ledger is drawn from: the signing accounts and their scopes, the enterprises, townships, villages."""

    def __init__(self, session: Session) -> None:
        self.signers = demo_signers(session)
        leader, officer, dept = (self.signers.get(k) for k in ("leader", "officer", "dept"))
        self.township_id = leader.caller.township_id if leader else None
        self.cells = set(session.scalars(officer_current_cells(officer.caller.officer_id))) if officer else set()
        self.department_id = dept.caller.department_id if dept else None
        columns = (Enterprise.id, Enterprise.name, Enterprise.sector, Enterprise.lon, Enterprise.lat)
        columns += (Enterprise.township_id, Enterprise.cell_id, Enterprise.department_ids, Enterprise.risk_level)
        self.enterprises = session.execute(
            select(*columns, Enterprise.legal_representative)
            .where(Enterprise.closed_at.is_(None), Enterprise.township_id.is_not(None))
            .order_by(Enterprise.id)
        ).all()
        self.townships = session.execute(
            select(Township.id, Township.name, Township.code, Township.boundary)
            .where(Township.retired_at.is_(None))
            .order_by(Township.code)
        ).all()
        self.villages = {row.id: row.name for row in session.execute(select(Village.id, Village.name))}
        cells = session.execute(select(GridCell.id, GridCell.boundary).where(GridCell.id.in_(self.cells))).all()
        # Where hazards are drawn: the officer's cells, the leader's township, the department's enterprises
        self.areas: dict[str, list[tuple[BaseGeometry, list[Any]]]] = {
            "cells": [
                (to_shape(c.boundary), [e for e in self.enterprises if e.cell_id == c.id]) for c in sorted(cells)
            ],
            "home": [(to_shape(t.boundary), self._in(t.id)) for t in self.townships if t.id == self.township_id],
            "county": [(to_shape(t.boundary), self._in(t.id)) for t in self.townships],
        }
        supervised = [e for e in self.enterprises if self.department_id in e.department_ids]
        self.dept_sectors = {e.sector for e in supervised}
        # The enterprises of each, and how likely each is to have a hazard (the riskier, the likelier)
        self.pools: dict[str, tuple[list[Any], list[float]]] = {}
        for where, pool in (
            ("cells", [e for _area, enterprises in self.areas["cells"] for e in enterprises]),
            ("home", [e for _area, enterprises in self.areas["home"] for e in enterprises]),
            ("county", supervised),
        ):
            pool = pool or self.enterprises
            weights = [{"red": 4, "orange": 3, "yellow": 2}.get(e.risk_level, 1) for e in pool]
            self.pools[where] = (pool, list(accumulate(weights)))

    def _in(self, township_id: int) -> list[Any]:
        return [e for e in self.enterprises if e.township_id == township_id]

    def signing(self, draft: Draft) -> dict[str, Signer]:
        """The accounts whose scope holds the hazard (the administrator's always)."""
        keys = ["admin"]
        if draft.place.township_id is not None and draft.place.township_id == self.township_id:
            keys.append("leader")
        if draft.place.cell_id in self.cells:
            keys.append("officer")
        if self.department_id in draft.department_ids:
            keys.append("dept")
        return {k: self.signers[k] for k in keys if k in self.signers}


def load_demo_hazards(session: Session, *, seed: int, count: int, photos: FileStore | None = None) -> dict[str, int]:
    """`count` hazards in the county's ledger, with their signed steps; none without enterprises or demo accounts.
    With `photos`, the store the photo of each rectification on the spot goes to; without, none is rectified on the
    spot (the step rests on a photo)."""
    rng = random.Random(seed)
    session.info["actor"] = SYSTEM
    # Every time is drawn back from the start of the county's day: a load on another day gives the same ledger, moved
    now = datetime.combine(county_today(), time(0), county_zone()).astimezone(UTC)
    write_transaction(session, locks.places())
    county = County(session)
    if count <= 0 or not county.enterprises or "admin" not in county.signers or len(county.signers) < 2:
        session.rollback()
        return {"hazards": 0, "hazard_steps": 0, "hazard_photos": 0}
    showcase = _showcase(county, rng, now) if count > 2 * SHOWCASE else []
    drafts = [_site(county, rng, now) for _ in range(count - len(showcase))] + showcase
    places = places_of(session, caller=SYSTEM, points=[(d.lon, d.lat) for d in drafts])
    by_sector: dict[str, list[int]] = {}
    for draft, place in zip(drafts, places, strict=True):
        draft.place = place
        if not draft.description:
            _describe(county, draft, rng)
        if draft.enterprise is not None:
            draft.department_ids = list(draft.enterprise.department_ids)
        else:
            if draft.sector not in by_sector:
                by_sector[draft.sector] = departments_of_sector(session, caller=SYSTEM, sector=draft.sector)
            draft.department_ids = by_sector[draft.sector]
        if draft.life is None:
            live(county.signing(draft), draft, rng, now, on_the_spot=photos is not None)
    drafts.sort(key=lambda d: d.life.row["created_at"])  # type: ignore[union-attr]
    hazards = _write(session, county, drafts)
    lives = [(hazard, draft.life) for hazard, draft in zip(hazards, drafts, strict=True)]
    photo_ids = _photos(session, photos, lives) if photos is not None else []
    steps = [{**step, "hazard_id": h.id} for h, life in lives for step in life.steps]
    session.execute(insert(HazardStep.__table__), steps)
    if photo_ids:  # each photo rests on its step
        photo, step = HazardPhoto.__table__, HazardStep.__table__
        on_the_spot = select(step.c.id).where(
            step.c.hazard_id == photo.c.hazard_id, step.c.action == Action.RECTIFY_ON_THE_SPOT.value
        )
        session.execute(update(photo).where(photo.c.id.in_(photo_ids)).values(step_id=on_the_spot.scalar_subquery()))
    links = [{"hazard_id": h.id, "department_id": d} for h in hazards for d in h.department_ids]
    if links:
        session.execute(insert(HazardDepartment.__table__), links)
    # The version its steps gave each hazard (the ORM wrote 1; versions are not audited)
    table = Hazard.__table__
    versions = [{"b_id": h.id, "b_version": life.version} for h, life in lives if life.version > 1]
    if versions:
        session.execute(
            update(table).where(table.c.id == bindparam("b_id")).values(version=bindparam("b_version")), versions
        )
    session.commit()
    return {"hazards": len(hazards), "hazard_steps": len(steps), "hazard_photos": len(photo_ids)}


def _photos(session: Session, store: FileStore, lives: list[tuple[Hazard, Any]]) -> list[int]:
    """The photo each rectification on the spot rests on, uploaded by its signer minutes before it and named in its
    details, as the service asks: the same grey placeholder for all (the demo has no real photos), one file."""
    spots = [(h, step) for h, life in lives for step in life.steps if step["action"] == "rectify_on_the_spot"]
    if not spots:
        return []
    digest = store.put(DEMO_PHOTO)
    rows = [
        {
            "hazard_id": hazard.id,
            "content_type": "image/jpeg",
            "size": len(DEMO_PHOTO),
            "sha256": digest,
            "uploaded_by_user_id": step["signer_user_id"],
            "uploaded_at": step["signed_at"] - timedelta(minutes=2),
        }
        for hazard, step in spots
    ]
    table = HazardPhoto.__table__
    ids = list(session.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows))
    for (_hazard, step), photo_id in zip(spots, ids, strict=True):
        step["details"]["photo_ids"] = [photo_id]
    return ids


def _grey_jpeg(width: int, height: int) -> bytes:
    """A mid-grey baseline JPEG: one component, every 8×8 block's DC difference and AC coefficients zero, each coded
    by the one 1-bit code of its Huffman table."""

    def segment(marker: int, body: bytes) -> bytes:
        return bytes((0xFF, marker)) + (len(body) + 2).to_bytes(2, "big") + body

    one_code = bytes([1] + [0] * 15) + b"\x00"  # one code of length 1, for the symbol 0 (DC: no difference; AC: EOB)
    bits = "00" * (-(-width // 8) * -(-height // 8))
    bits += "1" * (-len(bits) % 8)
    return b"".join(
        (
            b"\xff\xd8",
            segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
            segment(0xDB, b"\x00" + b"\x01" * 64),
            segment(0xC0, b"\x08" + height.to_bytes(2, "big") + width.to_bytes(2, "big") + b"\x01\x01\x11\x00"),
            segment(0xC4, b"\x00" + one_code),
            segment(0xC4, b"\x10" + one_code),
            segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
            int(bits, 2).to_bytes(len(bits) // 8, "big"),
            b"\xff\xd9",
        )
    )


DEMO_PHOTO = _grey_jpeg(64, 48)


def _write(session: Session, county: County, drafts: list[Draft]) -> list[Hazard]:
    """The hazard rows in the order of reporting, numbered per township and year as the service numbers them."""
    codes = {t.id: t.code for t in county.townships}
    seqs: dict[str, int] = {}
    hazards = []
    for draft in drafts:
        life = draft.life
        assert life is not None
        year = draft.found_at.astimezone(county_zone()).year
        prefix = f"{codes.get(draft.place.township_id, 'county')}-{year}-"
        seqs[prefix] = seqs.get(prefix, 0) + 1
        hazards.append(
            Hazard(
                number=f"{prefix}{seqs[prefix]:04d}",
                year=year,
                seq=seqs[prefix],
                enterprise_id=draft.enterprise.id if draft.enterprise is not None else None,
                place_description=draft.place_description,
                description=draft.description,
                kind=draft.kind,
                sector=draft.sector,
                severity=draft.severity,
                source=draft.source,
                found_by_user_id=life.steps[0]["signer_user_id"],
                found_by=life.steps[0]["signer"],
                found_at=draft.found_at,
                location=from_shape(Point(draft.lon, draft.lat), srid=SRID),
                lon=draft.lon,
                lat=draft.lat,
                cell_id=draft.place.cell_id,
                village_id=draft.place.village_id,
                township_id=draft.place.township_id,
                department_ids=draft.department_ids,
                status=life.status.value,
                **life.row,
            )
        )
    session.add_all(hazards)
    session.flush()
    return hazards


# ---- where and what ---------------------------------------------------------------------------------------------


def _site(county: County, rng: random.Random, now: datetime) -> Draft:
    """Where a hazard was found: seven in ten at an enterprise, the others at a place; a quarter in the leader's
    township (a few of those in the officer's cells), the rest at what the department account supervises."""
    found_at = working(now - timedelta(seconds=round((4 + (FOUND_OVER_DAYS - 4) * rng.random() ** 1.2) * 86400)))
    home = rng.random() < 0.25 or not county.dept_sectors
    where = "cells" if home and county.areas["cells"] and rng.random() < 0.06 else "home" if home else "county"
    if rng.random() < 0.7:
        pool, weights = county.pools[where]
        enterprise = rng.choices(pool, cum_weights=weights)[0]
        return Draft(enterprise.lon, enterprise.lat, found_at, enterprise, sector=enterprise.sector)
    area, enterprises = rng.choice(county.areas[where] or county.areas["county"])
    lon, lat = point_inside(area, rng)
    if enterprises and rng.random() < 0.5:  # by an enterprise (a roadside, the yard next door)
        e = rng.choice(enterprises)
        lon, lat = e.lon + rng.gauss(0, 0.002), e.lat + rng.gauss(0, 0.002)
        if not area.contains(Point(lon, lat)):
            lon, lat = e.lon, e.lat
    return Draft(round(lon, 7), round(lat, 7), found_at)


def _describe(county: County, draft: Draft, rng: random.Random) -> None:
    """What was found: a description by sector and its kind, a severity (major ones at enterprises, about one in
    twenty); away from enterprises a place and a sector that an account signing there supervises."""
    if draft.enterprise is None:
        home = draft.place.township_id == county.township_id
        places = [p for p in texts.PLACES if home or p[3] in county.dept_sectors] or texts.PLACES
        description, kind, where, draft.sector = rng.choice(places)
        township = next((t.name for t in county.townships if t.id == draft.place.township_id), "")
        village = county.villages.get(draft.place.village_id) or township  # type: ignore[arg-type]
        draft.place_description = where.format(t=township[:2], v=village[:2])
        draft.description, draft.kind = description, kind.value
        return
    sector = draft.sector or "other"
    if sector in texts.MAJOR and rng.random() < (0.16 if sector in ("hazardous_chemicals", "fireworks") else 0.05):
        draft.severity, draft.description, draft.kind = Severity.MAJOR.value, texts.MAJOR[sector][0], "unsafe_condition"
        return
    bank = texts.ANYWHERE if rng.random() < 0.15 else texts.GENERAL.get(sector, texts.GENERAL["other"])
    description, kind = rng.choice(bank)
    draft.description, draft.kind = description, kind.value


def _showcase(county: County, rng: random.Random, now: datetime) -> list[Draft]:
    """The hazards docs/hazards.md walks through, reported last (the two days before the load, in working hours) in
    the leader's township: a major one the department reported with an incomplete plan; a general one the officer
    reported in their cell; the same again from the leader, a duplicate."""
    home = [e for e in county.enterprises if e.township_id == county.township_id]
    mine = [e for e in home if e.cell_id in county.cells]
    supervised = [e for e in home if county.department_id in e.department_ids and e.sector in texts.MAJOR]
    supervised.sort(key=lambda e: (e.sector != "hazardous_chemicals", e.id))
    signers = county.signers
    if not (mine and supervised and {"leader", "officer", "dept"} <= signers.keys()):
        return []
    plant, shop = supervised[0], mine[0]
    major = Draft(plant.lon, plant.lat, now - timedelta(hours=38.5), plant, sector=plant.sector)
    major.description, major.kind = texts.MAJOR[plant.sector][0], "unsafe_condition"
    major.severity, major.source = Severity.MAJOR.value, Source.GOVERNMENT_INSPECTION.value
    major.life = Life(now, major.severity, signers["dept"], now - timedelta(hours=33), major.found_at, "执法检查发现")
    plan = five_implementations(major, rng, day(now) + timedelta(days=60))
    partial = {k: plan[k] for k in PARTIAL}
    major.life.take(Action.PLAN, signers["dept"], timedelta(hours=19), "方案待补充资金、时限和应急预案", **partial)
    description, kind = texts.GENERAL.get(shop.sector, texts.GENERAL["other"])[0]
    drafts = [major]
    for key, source, found, reported, comment in (
        ("officer", Source.PATROL, 10, 9.8, "网格巡查发现，已拍照"),
        ("leader", Source.TIP_OFF, 8, 7.5, "群众举报，现场核实"),
    ):
        draft = Draft(shop.lon, shop.lat, now - timedelta(hours=found), shop, sector=shop.sector)
        draft.description, draft.kind, draft.source = description, kind.value, source.value
        at = now - timedelta(hours=reported)
        draft.life = Life(now, draft.severity, signers[key], at, draft.found_at, comment)
        drafts.append(draft)
    return drafts

"""A server killed in the middle of a batch leaves every record wholly stored or not at all (issue 10).

A real server runs in an OS process of its own (werkzeug, threaded, as `flask run` would serve the app) on the
suite's database of each backend (a SpatiaLite file, the PostgreSQL test database). An officer logs in over HTTP and
sends a backlog of 100 records, each with hundreds of fixes, check-ins and findings that report hazards; while the
server is storing it (some of its records in the database, not all) it is killed with SIGKILL. Every stored record
is then compared with what was sent (its fixes, cells, officers, check-ins, findings and the hazards they created,
each hazard's report step and audit event, its ledger number), nothing else is left behind, and the same backlog
sent again to a new server answers `stored` for what had landed and `created` for the rest: each record once.
"""

from __future__ import annotations

import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid as uuids
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, text
from sqlalchemy import select as query

from api.db import db
from models.audit import AuditEvent
from models.hazards.model import Hazard, HazardDepartment, HazardStep
from models.patrols.model import Patrol, PatrolCell, PatrolCheckIn, PatrolFinding, PatrolOfficer, PatrolPhoto
from tests import factories as f

ROOT = Path(__file__).resolve().parents[2]
BATCH = 100  # the most a batch may hold
ATTEMPTS = 3  # a batch that lands whole before the kill (a starved poller) is tried again with new records
START_S, ANSWER_S = 60, 120  # generous on a busy machine; a run takes a few seconds

# The app of wsgi.py served on a free port (told on stdout) by werkzeug's threaded server, as `flask run` serves it.
SERVE = """
from werkzeug.serving import make_server
from wsgi import app
server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.port, flush=True)
server.serve_forever()
"""


class Server:
    """The API in a process of its own, on the test app's database (on PostgreSQL its connections are named
    `name`, so that its backends can be told apart from the test's)."""

    def __init__(self, app: Flask, log: Path, name: str) -> None:
        url = db.engine(app).url
        if url.get_backend_name() == "postgresql":
            url = url.update_query_dict({"application_name": name})
        self.app, self.name, self.log = app, name, log
        env = os.environ | {
            "DATABASE_URL": url.render_as_string(hide_password=False),
            "PASSWORD_HASH_COST": "fast",
            "CALLER_CACHE_DIR": app.config["CALLER_CACHE_DIR"],
            "FILE_STORE": app.config["FILE_STORE"],
        }
        with log.open("ab") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-c", SERVE], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=sink, text=True
            )
        self.url = f"http://127.0.0.1:{self._port()}{f.API}"

    def _port(self) -> int:
        deadline = time.monotonic() + START_S
        while time.monotonic() < deadline:
            if select.select([self.process.stdout], [], [], 0.2)[0]:
                line = self.process.stdout.readline()  # type: ignore[union-attr]
                if line.strip().isdigit():
                    return int(line)
            if self.process.poll() is not None:
                break
        self.kill()
        pytest.fail(f"the server did not start:\n{self.log.read_text()[-3000:]}")

    def login(self, username: str) -> dict[str, str]:
        """The Authorization header of this user, logged in over HTTP (the server listens from its first line)."""
        body = {"username": username, "password": f.PASSWORD}
        answer = requests.post(f"{self.url}/auth/token", json=body, timeout=START_S)
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def kill(self) -> None:
        """SIGKILL: no handler runs, no transaction is ended by the server itself. Answers once the process is gone
        and, on PostgreSQL, its backends too (a COMMIT it had sent is then committed or not, for good)."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        if self.process.stdout is not None:
            self.process.stdout.close()
        deadline = time.monotonic() + START_S
        while self._backends("TRUE") and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not self._backends("TRUE"), "the killed server's backends lived on"

    def _backends(self, condition: str) -> int:
        """On PostgreSQL, how many of the server's backends meet the condition on pg_stat_activity (0 on SQLite)."""
        engine = db.engine(self.app)
        if engine.dialect.name != "postgresql":
            return 0
        with engine.connect() as conn:
            stmt = text(f"SELECT count(*) FROM pg_stat_activity WHERE application_name = :name AND {condition}")
            return conn.execute(stmt, {"name": self.name}).scalar_one()

    def writing(self) -> bool:
        """Whether the server is inside a write transaction now: on PostgreSQL one that has written rows (it has a
        transaction id), on SQLite one that holds the database's write lock (BEGIN IMMEDIATE cannot take it)."""
        engine = db.engine(self.app)
        if engine.dialect.name == "postgresql":
            return self._backends("backend_xid IS NOT NULL") > 0
        probe = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # database is locked
            return True
        finally:
            probe.close()  # (rolls back: the server, waiting on its busy timeout, goes on)
        return False


@pytest.fixture
def servers(app: Flask, tmp_path: Path) -> Iterator[Any]:
    """Start a server with `servers()`; each is killed at the end, whatever happened."""
    started: list[Server] = []

    def start() -> Server:
        started.append(Server(app, tmp_path / "server.log", f"gridpatrol-kill-test-{len(started)}"))
        return started[-1]

    try:
        yield start
    finally:
        for server in started:  # every one first, then each waited for
            if server.process.poll() is None:
                server.process.kill()
        for server in started:
            server.kill()


# ---- the backlog ----------------------------------------------------------------------------------------------------


def backlog(world: Any, plants: list[int], attempt: int) -> list[dict[str, Any]]:
    """100 records of cell cA1 by officer_a, hours ago: record i has 250 to 310 fixes five seconds apart, one to
    four check-ins at the cell's enterprises, none to two findings at each and none or one away from any (all
    told apart by their descriptions), so that each record's figures are its own."""
    records = []
    for i in range(BATCH):
        start = f.ago(hours=6 + attempt, minutes=2 * i)
        fixes = 250 + 10 * (i % 7)
        points = []
        for k in range(fixes):
            x, y = 100 + (3 * k) % 800, 100 + (7 * i + 5 * ((3 * k) // 800)) % 800
            lon, lat = f.at(x, y)
            points.append({"at": (start + timedelta(seconds=5 * k)).isoformat(), "lon": lon, "lat": lat,
                           "accuracy_m": 3 + k % 10})  # fmt: skip
        check_ins = []
        for c in range(1 + i % 4):
            found = [{"description": f"批{attempt}记录{i}检查{c}隐患{n}", "kind": "unsafe_condition",
                      "severity": "major" if n else "general"} for n in range((i + c) % 3)]  # fmt: skip
            lon, lat = f.at(300 + 100 * c, 305)
            check_ins.append({"enterprise_id": plants[(i + c) % len(plants)],
                              "at": (start + timedelta(seconds=60 * (c + 1))).isoformat(), "lon": lon, "lat": lat,
                              "result": "hazards_found" if found else "normal", "findings": found})  # fmt: skip
        away = [{"description": f"批{attempt}记录{i}路边隐患", "kind": "unsafe_behaviour", "severity": "general",
                 "place_description": "青山桥东侧", "sector": "hazardous_chemicals",
                 "lon": f.at(600, 600)[0], "lat": f.at(600, 600)[1]}] if i % 2 else []  # fmt: skip
        records.append({
            "uuid": str(uuids.uuid4()), "kind": "grid_patrol", "cell_ids": [world["cA1"]],
            "started_at": start.isoformat(), "ended_at": (start + timedelta(seconds=5 * fixes)).isoformat(),
            "points": points, "check_ins": check_ins, "findings": away, "notes": f"批{attempt}记录{i}",
        })  # fmt: skip
    return records


def expected(record: dict[str, Any]) -> dict[str, Any]:
    """What a stored record holds, by what was sent."""
    findings = {(None, n, x["description"]) for n, x in enumerate(record["findings"])}
    findings |= {(c, n, x["description"]) for c, stop in enumerate(record["check_ins"])
                 for n, x in enumerate(stop["findings"])}  # fmt: skip
    return {
        "points": [datetime.fromisoformat(p["at"]) for p in record["points"]],
        "check_ins": [(c, stop["enterprise_id"], stop["result"]) for c, stop in enumerate(record["check_ins"])],
        "findings": findings,
    }


# ---- what the database holds ----------------------------------------------------------------------------------------


def stored_of(app: Flask, uuids_sent: list[str]) -> int:
    """How many of these records are stored now (a connection of its own: no snapshot kept between polls)."""
    with db.engine(app).connect() as conn:
        return conn.execute(query(func.count()).select_from(Patrol).where(Patrol.uuid.in_(uuids_sent))).scalar_one()


def check_whole(app: Flask, world: Any, sent: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Every stored patrol is a record sent, complete, and nothing else is there: answers the stored ids by UUID."""
    with db.new_session(app) as session:
        patrols = {row.id: row for row in session.execute(query(Patrol.id, Patrol.uuid, Patrol.points))}
        ids = {row.uuid: pid for pid, row in patrols.items()}
        assert len(ids) == len(patrols), "a record stored twice"
        assert set(ids) <= set(sent), "a patrol that no batch sent"
        rows = lambda *columns: session.execute(query(*columns)).all()  # noqa: E731
        cells, officers = defaultdict(set), defaultdict(set)
        for pid, cell in rows(PatrolCell.patrol_id, PatrolCell.cell_id):
            cells[pid].add(cell)
        for pid, officer in rows(PatrolOfficer.patrol_id, PatrolOfficer.officer_id):
            officers[pid].add(officer)
        stops: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
        stop_seq = {}
        for cid, pid, seq, plant, result in rows(PatrolCheckIn.id, PatrolCheckIn.patrol_id, PatrolCheckIn.seq,
                                                 PatrolCheckIn.enterprise_id, PatrolCheckIn.result):  # fmt: skip
            stops[pid].append((seq, plant, result))
            stop_seq[cid] = (pid, seq)
        hazards = {h.id: h for h in rows(Hazard.id, Hazard.description, Hazard.source, Hazard.township_id,
                                         Hazard.year, Hazard.seq)}  # fmt: skip
        findings: dict[int, set[tuple[int | None, int, str]]] = defaultdict(set)
        finding_of: Counter[int] = Counter()
        for hid, pid, cid, seq in rows(PatrolFinding.hazard_id, PatrolFinding.patrol_id, PatrolFinding.check_in_id,
                                       PatrolFinding.seq):  # fmt: skip
            assert hid in hazards, f"finding of patrol {pid} without its hazard {hid}"
            if cid is not None:
                assert stop_seq[cid][0] == pid, f"finding of patrol {pid} at another patrol's check-in"
            findings[pid].add((None if cid is None else stop_seq[cid][1], seq, hazards[hid].description))
            finding_of[hid] += 1
        steps = Counter(hid for (hid,) in rows(HazardStep.hazard_id))
        created = Counter(eid for (eid,) in session.execute(query(AuditEvent.entity_id).where(
            AuditEvent.entity_type == "hazards", AuditEvent.action == "create")))  # fmt: skip
        audited = {eid for (eid,) in session.execute(query(AuditEvent.entity_id).where(
            AuditEvent.entity_type == "hazards"))}  # fmt: skip
        departments = {hid for (hid,) in rows(HazardDepartment.hazard_id)}
        photos = rows(PatrolPhoto.id)

    for uid, pid in ids.items():
        want, what = expected(sent[uid]), f"record {sent[uid]['notes']} (patrol {pid})"
        assert [datetime.fromisoformat(p[0]) for p in patrols[pid].points] == want["points"], f"{what}: its fixes"
        assert cells[pid] == {world["cA1"]} and officers[pid] == {world["oA1"]}, f"{what}: its cells, officers"
        assert sorted(stops[pid]) == want["check_ins"], f"{what}: its check-ins"
        assert findings[pid] == want["findings"], f"{what}: its findings and their hazards"
    # nothing but the stored records' rows: no check-in, cell, officer or finding of a patrol that is not there
    assert set(cells) | set(officers) | set(stops) | set(findings) <= set(patrols), "rows of a patrol not stored"
    # every hazard is a stored finding's, reported once (one finding, one report step, one audit event)
    assert all(h.source == "patrol" for h in hazards.values())
    assert set(finding_of) == set(hazards) and set(finding_of.values()) <= {1}, "a hazard without its finding"
    assert steps == Counter(set(hazards)), "a hazard without its report step, or a step without its hazard"
    assert created == Counter(set(hazards)) and audited == set(hazards), "the hazards' audit events"
    assert departments <= set(hazards) and photos == []
    # the ledger's numbers have no gap: a record that did not land took no number
    numbers: dict[tuple[int | None, int], list[int]] = defaultdict(list)
    for h in hazards.values():
        numbers[h.township_id, h.year].append(h.seq)
    assert all(sorted(seqs) == list(range(1, len(seqs) + 1)) for seqs in numbers.values()), numbers
    return ids


# ---- the kill -------------------------------------------------------------------------------------------------------


def kill_mid_batch(app: Flask, server: Server, auth: dict[str, str], batch: list[dict[str, Any]], depth: int) -> Any:
    """Send the batch from a thread and SIGKILL the server once at least `depth` of its records, not all, are in
    the database, while it is inside the transaction of another; answers None after a kill, or the batch's answer
    when it was answered before the poller caught it half-way."""
    answer: list[Any] = []

    def send() -> None:
        try:
            answer.append(requests.post(f"{server.url}/patrols/batch", json={"patrols": batch}, headers=auth,
                                        timeout=ANSWER_S))  # fmt: skip
        except requests.RequestException as error:  # the connection cut by the kill
            answer.append(error)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    sent, deadline, killed = [r["uuid"] for r in batch], time.monotonic() + ANSWER_S, False
    try:
        while sender.is_alive() and time.monotonic() < deadline:
            if depth <= stored_of(app, sent) < len(batch) and server.writing():
                server.kill()
                killed = True
                break
            time.sleep(0.005)
    finally:
        server.kill()  # (also when the poll failed or timed out)
    sender.join(timeout=ANSWER_S)
    assert not sender.is_alive(), "the batch's request did not end with its server"
    if killed:
        assert isinstance(answer[0], requests.RequestException), "the batch was answered, yet the server was killed"
        return None
    assert answer, f"the batch was neither answered nor caught half-way in {ANSWER_S} s"
    assert isinstance(answer[0], requests.Response), f"the server failed before storing anything: {answer[0]!r}"
    assert answer[0].status_code == 200, answer[0].text
    return answer[0]


def test_a_server_killed_mid_batch_leaves_no_partial_record(app, world, servers):
    plants = [f.enterprise(world.admin, x, 300, n)["id"] for n, x in enumerate((300, 400, 500, 600, 700), 1)]
    sent: dict[str, dict[str, Any]] = {}
    for attempt in range(ATTEMPTS):
        batch = backlog(world, plants, attempt)
        sent |= {r["uuid"]: r for r in batch}
        depth = random.randint(1, BATCH // 2)  # where the kill comes: each run interrupts other records
        server = servers()
        whole = kill_mid_batch(app, server, server.login("officer-a"), batch, depth)
        stored = check_whole(app, world, sent)
        landed = {r["uuid"] for r in batch} & set(stored)
        if whole is None:
            assert depth <= len(landed) < len(batch), f"killed after {depth}, yet {len(landed)} landed"
            break
        assert len(landed) == len(batch)  # answered whole before the poller saw it half-way: again, new records
    else:
        pytest.fail(f"the batch was stored whole before the kill {ATTEMPTS} times: make it bigger")

    server = servers()
    answer = requests.post(f"{server.url}/patrols/batch", json={"patrols": batch}, headers=server.login("officer-a"),
                           timeout=ANSWER_S)  # fmt: skip
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert [(i["index"], i["uuid"], i["outcome"], i["status"]) for i in items] == [
        (n, r["uuid"], *(("stored", 200) if r["uuid"] in landed else ("created", 201))) for n, r in enumerate(batch)
    ]
    assert all(i["id"] == stored[i["uuid"]] for i in items if i["outcome"] == "stored")
    final = check_whole(app, world, sent)
    assert set(final) == set(sent) and {i["id"] for i in items} == {final[r["uuid"]] for r in batch}
    with db.new_session(app) as session:
        counts = [session.scalar(query(func.count()).select_from(m)) for m in (Patrol, PatrolCheckIn, Hazard)]
    assert counts == [len(sent), sum(len(r["check_ins"]) for r in sent.values()),
                      sum(len(expected(r)["findings"]) for r in sent.values())]  # fmt: skip

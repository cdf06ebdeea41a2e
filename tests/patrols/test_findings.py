"""Findings: each a hazard in the ledger, reported with its patrol in one transaction, through the ledger's rules;
sent again, nothing is reported twice. Every test runs on SpatiaLite and on PostGIS (see conftest.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from api.db import db
from models.hazards.model import Hazard
from models.patrols.model import Patrol, PatrolFinding
from tests import factories as f
from tests.factories import API, assert_problem
from tests.patrols.test_upload import record


def counts(app) -> tuple[int, int, int]:
    with db.new_session(app) as session:
        return tuple(session.scalar(select(func.count()).select_from(m)) for m in (Patrol, Hazard, PatrolFinding))


def test_findings_are_reported_to_the_ledger_with_their_patrol_and_never_twice(app, world):
    officer = world.as_("officer_a")
    plant = f.enterprise(world.admin, 500, 500, 1)
    at = f.ago(minutes=40)
    body = record(world, check_ins=[
        {"enterprise_id": plant["id"], "at": at.isoformat(), "result": "hazards_found", "lon": f.at(505, 500)[0],
         "lat": f.at(505, 500)[1], "findings": [
             {"description": "灭火器压力不足", "kind": "unsafe_condition", "severity": "general"},
             {"description": "动火作业无审批", "kind": "unsafe_behaviour", "severity": "general", "comment": "现场"}]},
    ], findings=[{"description": "河堤护栏缺失", "kind": "unsafe_condition", "severity": "general",
                  "place_description": "青山桥东侧", "sector": "hazardous_chemicals",
                  "lon": f.at(300, 300)[0], "lat": f.at(300, 300)[1]}])  # fmt: skip
    created = f.ok(officer.post(f"{API}/patrols", json=body), 201)
    found = created["findings"]
    assert [(x["check_in_seq"], x["seq"], x["severity"], x["status"]) for x in found] == [
        (0, 0, "general", "reported"), (0, 1, "general", "reported"), (None, 0, "general", "reported")]  # fmt: skip
    assert found[0]["check_in_id"] == created["check_ins"][0]["id"] and found[2]["check_in_id"] is None
    first = f.ok(officer.get(f"{API}/hazards/{found[0]['hazard_id']}"))
    assert (first["enterprise_id"], first["source"], first["cell_id"]) == (plant["id"], "patrol", world["cA1"])
    assert datetime.fromisoformat(first["found_at"]) == at
    assert first["number"] == found[0]["number"]
    away = f.ok(officer.get(f"{API}/hazards/{found[2]['hazard_id']}"))
    assert (away["enterprise_id"], away["place_description"]) == (None, "青山桥东侧")
    assert counts(app) == (1, 3, 3)
    assert f.ok(officer.post(f"{API}/patrols", json=body), 200) == created
    assert f.ok(officer.post(f"{API}/patrols/batch", json={"patrols": [body]}))["items"][0]["outcome"] == "stored"
    assert counts(app) == (1, 3, 3)
    # a backlog: the stored record (its findings took the ledger's lock too) and new ones after it, with findings
    later = [record(world, check_ins=[{**body["check_ins"][0], "at": f.ago(minutes=m).isoformat()}]) for m in (30, 20)]
    batch = f.ok(officer.post(f"{API}/patrols/batch", json={"patrols": [body, *later, body]}))
    assert [i["outcome"] for i in batch["items"]] == ["stored", "created", "created", "stored"]
    assert counts(app) == (3, 7, 7)


def test_a_finding_the_ledger_refuses_refuses_its_whole_record(app, world):
    officer = world.as_("officer_a")
    plant = f.enterprise(world.admin, 500, 500, 1)
    bad = {"description": "无名隐患", "kind": "unsafe_condition", "severity": "general", "sector": "no_such_sector"}
    body = record(world, check_ins=[{"enterprise_id": plant["id"], "at": f.ago(minutes=40).isoformat(),
                                     "result": "hazards_found", "findings": [bad]}])  # fmt: skip
    problem = assert_problem(officer.post(f"{API}/patrols", json=body), 422, "sector-unknown")
    assert problem["errors"][0]["pointer"] == "/check_ins/0/findings/0/sector"
    away = record(world, findings=[{"description": "路边油桶", "kind": "unsafe_condition", "severity": "general"}])
    assert_problem(officer.post(f"{API}/patrols", json=away), 422, "place-required")
    answer = f.ok(officer.post(f"{API}/patrols/batch", json={"patrols": [body, away, record(world)]}))
    assert [(i["outcome"], i["code"]) for i in answer["items"]] == [
        ("refused", "sector-unknown"), ("refused", "place-required"), ("created", None)]  # fmt: skip
    assert counts(app) == (1, 0, 0)


def test_a_finding_where_a_closed_enterprise_was_is_reported_by_its_place(app, world):
    plant = f.enterprise(world.admin, 500, 500, 1)
    f.ok(world.admin.post(f"{API}/enterprises/{plant['id']}/close", json={"reason": "已关闭"},
                          headers={"If-Match": '"1"'}))  # fmt: skip
    finding = {"description": "关闭后擅自复产", "kind": "management_defect", "severity": "major"}
    body = record(world, check_ins=[{"enterprise_id": plant["id"], "at": f.ago(minutes=40).isoformat(),
                                     "result": "suspended_but_producing", "findings": [finding]}])  # fmt: skip
    created = f.ok(world.as_("officer_a").post(f"{API}/patrols", json=body), 201)
    hazard = f.ok(world.admin.get(f"{API}/hazards/{created['findings'][0]['hazard_id']}"))
    assert (hazard["enterprise_id"], hazard["place_description"], hazard["severity"]) == (
        None, "企业1（已关闭）", "major")  # fmt: skip
    assert hazard["location"]["coordinates"] == plant["location"]["coordinates"]


def test_a_storm_of_a_record_with_findings_reports_them_once(app, world):
    plant = f.enterprise(world.admin, 500, 500, 1)
    body = record(world, check_ins=[{"enterprise_id": plant["id"], "at": f.ago(minutes=40).isoformat(),
                                     "result": "hazards_found", "findings": [
                                         {"description": "配电箱无门", "kind": "unsafe_condition",
                                          "severity": "general"}]}])  # fmt: skip
    clients = [f.same_caller(world.as_("officer_a")) for _ in range(4)]
    answers = f.run_together(*[lambda c=c: c.post(f"{API}/patrols", json=body) for c in clients])
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201]
    assert counts(app) == (1, 1, 1)

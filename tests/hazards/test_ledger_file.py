"""The ledger as a file: every hazard of the filter, one row each, with every signature; the .xlsx opens with
openpyxl, the CSV reads back. Every test runs on SpatiaLite and on PostGIS (see conftest.py)."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from models.hazards.ledger import HEADER, MAJOR_HEADER
from models.roles import Role
from tests import factories as f
from tests.factories import API
from tests.hazards.helpers import hazard_in, report


def test_the_xlsx_holds_every_hazard_of_the_filter_one_row_each_with_every_signature(app, world):
    admin = world.admin
    other = f.login_as(app, Role.COUNTY_ADMIN, username="admin-2")
    plant = f.enterprise(admin, 1500, 500, 1)
    closed = hazard_in(admin, other, "closed", description="消防通道堵塞")
    major = hazard_in(admin, other, "rectifying", severity="major", enterprise_id=plant["id"])
    in_b = report(admin, 4500, 500, description="Green Hill 的隐患")
    voided = hazard_in(admin, other, "voided")

    response = admin.get(f"{API}/hazards/ledger?township_id={world['tA']}")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    ledger, register = book["隐患台账"], book["重大隐患"]
    rows = [dict(zip(HEADER, r, strict=True)) for r in ledger.iter_rows(min_row=2, values_only=True)]
    assert [c.value for c in ledger[1]] == list(HEADER)
    assert sorted(r["隐患编号"] for r in rows) == sorted(h["number"] for h in (closed, major, voided))
    by_number = {r["隐患编号"]: r for r in rows}
    assert in_b["number"] not in by_number
    for hazard in (closed, major, voided):
        steps = f.ok(admin.get(f"{API}/hazards/{hazard['id']}/steps"))["items"]
        lines = by_number[hazard["number"]]["签名记录"].split("\n")
        assert len(lines) == len(steps)
        for line, step in zip(lines, steps, strict=True):
            assert step["signer"] in line
            if step["comment"]:
                assert step["comment"] in line
    assert by_number[closed["number"]]["状态"] == "已销号" and by_number[closed["number"]]["销号时间"]
    assert by_number[major["number"]]["企业"] == plant["name"]
    assert by_number[major["number"]]["五落实·整改资金(元)"] == 85000.5
    assert [c.value for c in register[1]] == list(MAJOR_HEADER)
    assert [r[0] for r in register.iter_rows(min_row=2, values_only=True)] == [major["number"]]


def test_the_csv_reads_back_and_a_caller_gets_only_their_scope(world):
    admin = world.admin
    mine = report(admin, 500, 500)
    theirs = report(admin, 4500, 500)
    response = world.as_("leader_a").get(f"{API}/hazards/ledger?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.data.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == list(HEADER)
    assert [row[0] for row in table[1:]] == [mine["number"]]
    officer = world.as_("officer_b").get(f"{API}/hazards/ledger?format=csv&severity=general")
    table = list(csv.reader(io.StringIO(officer.data.decode("utf-8-sig"))))
    assert [row[0] for row in table[1:]] == [theirs["number"]]
    none = world.as_("officer_b").get(f"{API}/hazards/ledger?format=csv&severity=major")
    assert list(csv.reader(io.StringIO(none.data.decode("utf-8-sig")))) == [list(HEADER)]

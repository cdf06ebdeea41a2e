"""Importing the enterprise ledger: every row checked and reported, the good ones upserted by credit code, the modes
(dry run, all or nothing), importing twice, the file formats, scope, the template. Both backends (see conftest.py)."""

from __future__ import annotations

import csv
import io
import uuid

import pytest

from models.enterprises.ledger_columns import COLUMNS
from models.roles import Role
from tests import factories as f
from tests.enterprises.ledger_files import (
    audit_total,
    csv_file,
    enterprises_by_code,
    imported,
    outcomes,
    row,
    send,
    xlsx_file,
)
from tests.factories import API, assert_problem

CHINESE = {c.key: c.zh[0] for c in COLUMNS}


def ledger_with_one_bad_row_of_each_kind(world) -> tuple[list[dict], dict[int, tuple[str, list[str]]]]:
    """Rows for leader_a (township tA lies 0-4000 m east, tB beyond), and what each should come to."""
    admin = world.admin
    f.enterprise(admin, 1500, 500, 2)
    f.enterprise(admin, 600, 600, 3)
    f.enterprise(admin, 4500, 500, 4)  # in township tB
    slip = f.credit_code(6)[:-1] + ("0" if f.credit_code(6)[-1] != "0" else "1")
    rows = [
        row(1, 500, 500),  # 2: new
        row(2, 1500, 500, risk_level="orange"),  # 3: changes a field
        row(3, 600, 600),  # 4: as it is
        row(6, 500, 500, credit_code=slip),  # 5
        row(7, 500, 500, credit_code="9143010000000000"),  # 6: 16 characters
        row(8, 500, 500, sector="space_mining"),  # 7
        row(9, 500, 500, lat=95.0),  # 8
        row(10, 500, 500, coord_system="mars"),  # 9
        row(11, 500, 500, risk_level="紫"),  # 10
        row(12, 500, 500, licence_expires_on="2027-02-30"),  # 11
        row(13, 500, 500, duty_phone="call me"),  # 12
        row(14, 500, 500, name="长" * 201),  # 13
        row(15, 500, 500, name=None),  # 14: no name
        row(1, 700, 700, name="企业1 again"),  # 15: row 2's code
        row(4, 1000, 500),  # 16: a live record of tB has this code
        row(16, 4500, 500),  # 17: in tB
        row(
            5,
            2500,
            500,
            risk_level="重大",
            key_level="县级",
            scale="规上",
            status="停产整顿",
            major_hazard_grade="二级",
            licence_expires_on="2027/6/30",
            duty_phone="0731-55551234",
            coord_system="WGS-84",
            sector="危险化学品",
        ),  # 18: Chinese spellings
    ]
    expected = {
        2: ("created", []),
        3: ("updated", []),
        4: ("unchanged", []),
        5: ("refused", ["credit-code-check"]),
        6: ("refused", ["credit-code-format"]),
        7: ("refused", ["sector-unknown"]),
        8: ("refused", ["coordinates-out-of-range"]),
        9: ("refused", ["invalid"]),
        10: ("refused", ["invalid"]),
        11: ("refused", ["date-format"]),
        12: ("refused", ["phone-format"]),
        13: ("refused", ["length"]),
        14: ("refused", ["required"]),
        15: ("refused", ["duplicate-in-file"]),
        16: ("refused", ["credit-code-taken"]),
        17: ("refused", ["location-outside-township"]),
        18: ("created", []),
    }
    return rows, expected


def test_a_file_with_one_bad_row_of_each_kind_reports_each_and_the_good_rows_land(world):
    rows, expected = ledger_with_one_bad_row_of_each_kind(world)
    leader = world.as_("leader_a")

    report = imported(leader, csv_file(rows))

    assert outcomes(report) == expected
    assert report["summary"] == {"created": 2, "updated": 1, "unchanged": 1, "refused": 13}
    assert (report["landed"], report["dry_run"], report["all_or_nothing"]) == (True, False, False)
    by_row = {r["row"]: r for r in report["rows"]}
    assert "row 2" in by_row[15]["errors"][0]["detail"] and by_row[15]["errors"][0]["column"] == "credit_code"
    assert by_row[9]["errors"][0]["column"] == "coord_system"
    assert by_row[3]["changed"] == ["risk_level"]
    assert "outside your scope" in by_row[16]["errors"][0]["detail"]
    seen = enterprises_by_code(world.admin)
    assert seen[f.credit_code(1)]["id"] == by_row[2]["enterprise_id"]
    assert seen[f.credit_code(1)]["cell_id"] == world["cA1"]
    assert seen[f.credit_code(2)]["risk_level"] == "orange" and seen[f.credit_code(2)]["version"] == 2
    assert seen[f.credit_code(3)]["version"] == 1
    chinese = seen[f.credit_code(5)]
    assert (chinese["risk_level"], chinese["key_level"], chinese["scale"], chinese["status"]) == (
        "red", "county", "above_designated", "suspended")  # fmt: skip
    assert (chinese["major_hazard_grade"], chinese["licence_expires_on"]) == (2, "2027-06-30")
    assert (chinese["cell_id"], chinese["township_id"]) == (world["cA3"], world["tA"])
    assert seen[f.credit_code(4)]["township_id"] == world["tB"]  # the record of tB is untouched
    assert len(seen) == 5


def test_all_or_nothing_lands_nothing_when_a_row_is_refused_and_everything_when_none_is(world):
    rows, expected = ledger_with_one_bad_row_of_each_kind(world)
    leader = world.as_("leader_a")
    before, events = enterprises_by_code(world.admin), audit_total(world.admin)

    report = imported(leader, csv_file(rows), all_or_nothing=True)

    assert (report["landed"], report["all_or_nothing"]) == (False, True)
    assert outcomes(report) == expected  # what would have happened
    assert all(r["enterprise_id"] is None for r in report["rows"] if r["outcome"] == "created")
    assert enterprises_by_code(world.admin) == before and audit_total(world.admin) == events
    good = [rows[0], rows[1], rows[-1]]
    assert imported(leader, csv_file(good), all_or_nothing=True)["landed"] is True
    assert len(enterprises_by_code(world.admin)) == len(before) + 2


def test_a_dry_run_writes_nothing_and_reports_what_the_import_then_does(world):
    rows, expected = ledger_with_one_bad_row_of_each_kind(world)
    leader = world.as_("leader_a")
    before, events = enterprises_by_code(world.admin), audit_total(world.admin)

    dry = imported(leader, csv_file(rows), dry_run=True)
    assert (dry["dry_run"], dry["landed"]) == (True, False)
    assert enterprises_by_code(world.admin) == before and audit_total(world.admin) == events
    real = imported(leader, csv_file(rows))

    assert outcomes(dry) == outcomes(real) == expected
    assert dry["summary"] == real["summary"]
    for planned, done in zip(dry["rows"], real["rows"], strict=True):
        assert planned["errors"] == done["errors"] and planned["changed"] == done["changed"]
        if done["outcome"] != "created":
            assert planned["enterprise_id"] == done["enterprise_id"]


def test_importing_the_same_file_twice_changes_nothing_the_second_time(world):
    rows, _ = ledger_with_one_bad_row_of_each_kind(world)
    from geo.coords import wgs84_to_gcj02

    amap = dict(zip(("lon", "lat"), wgs84_to_gcj02(*f.at(1500, 800)), strict=True))
    rows.append(row(20, 0, 0, coord_system="高德", **amap))  # GCJ-02: converted to WGS-84 alike each time
    content = xlsx_file(rows)
    leader = world.as_("leader_a")
    first = imported(leader, content, "ledger.xlsx")
    after_first, events = enterprises_by_code(world.admin), audit_total(world.admin)

    second = imported(leader, content, "ledger.xlsx")

    assert first["summary"] == {"created": 3, "updated": 1, "unchanged": 1, "refused": 13}
    assert second["summary"] == {"created": 0, "updated": 0, "unchanged": 5, "refused": 13}
    assert enterprises_by_code(world.admin) == after_first  # every version and every field as it was
    assert audit_total(world.admin) == events
    assert {r["enterprise_id"] for r in second["rows"] if r["outcome"] == "unchanged"} == {
        r["enterprise_id"] for r in first["rows"] if r["outcome"] in ("created", "updated", "unchanged")
    }


@pytest.mark.parametrize("form", ["utf-8", "utf-8-sig", "gb18030", "xlsx"])
def test_csv_in_utf8_with_or_without_bom_or_gb18030_and_xlsx_with_chinese_headers_all_import(world, form):
    from datetime import date

    rows = [
        row(1, 500, 500, risk_level="较大", licence_expires_on=date(2027, 6, 30) if form == "xlsx" else "2027-06-30"),
        row(
            2,
            1500,
            500,
            name="张家湾加油站",
            sector="燃气",
            duty_phone=13800138000 if form == "xlsx" else "13800138000",
        ),
    ]
    if form == "xlsx":
        content, name = xlsx_file(rows, names=CHINESE), "台账.xlsx"
    else:
        content, name = csv_file(rows, names=CHINESE, encoding=form), "台账.csv"
    if form == "gb18030":
        with pytest.raises(UnicodeDecodeError):
            content.decode("utf-8")

    report = imported(world.admin, content, name)

    assert report["summary"]["created"] == 2, report["rows"]
    seen = enterprises_by_code(world.admin)
    assert (seen[f.credit_code(1)]["risk_level"], seen[f.credit_code(1)]["licence_expires_on"]) == (
        "orange", "2027-06-30")  # fmt: skip
    gas = seen[f.credit_code(2)]
    assert (gas["name"], gas["sector"], gas["duty_phone"]) == ("张家湾加油站", "gas", "13800138000")


def test_a_township_leader_cannot_import_into_another_township_nor_move_a_record_there(world):
    admin, leader = world.admin, world.as_("leader_a")
    mine = f.enterprise(admin, 500, 500, 1)
    f.enterprise(admin, 4500, 500, 2)

    report = imported(leader, csv_file([row(1, 4600, 500), row(2, 4500, 500), row(3, 5500, 500)]))

    assert outcomes(report) == {
        2: ("refused", ["location-outside-township"]),
        3: ("refused", ["credit-code-taken"]),
        4: ("refused", ["location-outside-township"]),
    }
    assert report["rows"][1]["enterprise_id"] is None  # the record of tB is not named to a leader of tA
    assert f.ok(admin.get(f"{API}/enterprises/{mine['id']}"))["version"] == 1
    assert imported(admin, csv_file([row(3, 5500, 500)]))["summary"]["created"] == 1  # the county imports anywhere
    assert_problem(send(world.as_("officer_a"), csv_file([row(4, 500, 500)])), 403, "forbidden")


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_the_template_round_trips_download_it_fill_it_upload_it(world, form):
    from openpyxl import load_workbook

    template = world.admin.get(f"{API}/enterprises/import-template", query_string={"format": form})
    assert template.status_code == 200
    assert template.headers["Content-Disposition"].endswith(f'.{form}"')
    mine = [row(1, 500, 500, risk_level="一般"), row(2, 2500, 500, key_level="镇级")]
    if form == "csv":
        assert template.mimetype == "text/csv" and template.data.startswith(b"\xef\xbb\xbf")
        header, example = list(csv.reader(io.StringIO(template.data.decode("utf-8-sig"))))
        assert header[0] == "企业名称/name" and len(header) == len(example) == len(COLUMNS)
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        writer.writerow(header)
        keys = [c.key for c in COLUMNS]
        writer.writerows([[r.get(k, "") for k in keys] for r in mine])
        content = out.getvalue().encode("utf-8-sig")
    else:
        book = load_workbook(io.BytesIO(template.data))
        sheet = book.worksheets[0]
        assert sheet.cell(1, 2).value == "统一社会信用代码/credit_code" and sheet.max_row == 2
        sheet.delete_rows(2)
        for r in mine:
            sheet.append([r.get(c.key) for c in COLUMNS])
        out = io.BytesIO()
        book.save(out)
        content = out.getvalue()
    example_only = imported(world.admin, template.data, f"template.{form}", dry_run=True)
    assert example_only["summary"]["created"] == 1, example_only  # the example row is a valid row

    report = imported(world.as_("leader_a"), content, f"mine.{form}")

    assert report["summary"]["created"] == 2, report["rows"]
    seen = enterprises_by_code(world.admin)
    assert seen[f.credit_code(2)]["key_level"] == "township" and seen[f.credit_code(1)]["risk_level"] == "yellow"


def test_a_file_that_is_no_ledger_is_refused_whole_with_a_code(world, monkeypatch):
    admin = world.admin
    cases = {
        "unknown-column": csv_file([row(1, 500, 500) | {"备注": "x"}]),
        "missing-column": csv_file([{"name": "x", "credit_code": f.credit_code(1)}]),
        "duplicate-column": b"name,credit_code,sector,lon,lat,\xe4\xbc\x81\xe4\xb8\x9a\xe5\x90\x8d\xe7\xa7\xb0\n",
        "file-empty": b"",
        "file-unreadable": b"\x81\x30\xff\xfe\x00garbage",
    }
    for code, content in cases.items():
        body = assert_problem(send(admin, content), 422, code)
        assert body["detail"]
    assert_problem(send(admin, b"PK\x03\x04 not really a zip", "x.xlsx"), 422, "file-unreadable")
    assert_problem(send(admin, b"\xd0\xcf\x11\xe0 an old .xls", "x.xls"), 422, "file-unreadable")
    assert_problem(
        admin.post(f"{API}/enterprises/import", data={}, content_type="multipart/form-data"), 422, "required"
    )

    monkeypatch.setattr("api.enterprises.importing.MAX_ROWS", 2)
    assert_problem(send(admin, csv_file([row(n, 500, 500) for n in (1, 2, 3)])), 422, "too-many-rows")
    monkeypatch.setattr("api.enterprises.importing.MAX_BYTES", 1000)
    assert_problem(send(admin, csv_file([row(n, 500, 500) for n in range(1, 30)])), 413, "payload-too-large")
    assert enterprises_by_code(admin) == {}


def test_a_retried_upload_with_its_idempotency_key_answers_the_first_answer(world):
    content = csv_file([row(1, 500, 500)])
    key = {"Idempotency-Key": str(uuid.uuid4())}

    first = send(world.admin, content, headers=key)
    again = send(world.admin, content, headers=key)  # another multipart boundary, the same file
    other = send(world.admin, csv_file([row(2, 500, 500)]), headers=key)

    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()
    assert_problem(other, 422, "idempotency-key-reused")
    assert list(enterprises_by_code(world.admin)) == [f.credit_code(1)]


def test_imported_records_take_their_sectors_departments_and_enter_the_name_index_and_the_audit_trail(app, world):
    admin = world.admin
    yjj = f.department(admin)  # hazardous chemicals
    zjj = f.department(admin, code="ZJJ", name="县住建局", sectors=("gas",))
    f.enterprise(admin, 2500, 500, 3, department_ids=[yjj["id"]])  # its departments set by hand
    first = imported(admin, csv_file([row(1, 500, 500, name="青山台账化工"), row(2, 1500, 500, sector="燃气")]))
    assert first["summary"]["created"] == 2

    moved = imported(
        admin, csv_file([row(1, 500, 500, name="青山台账化工", sector="gas"), row(3, 2500, 500, sector="gas")])
    )

    assert [(r["outcome"], r["changed"]) for r in moved["rows"]] == [("updated", ["sector"]), ("updated", ["sector"])]
    seen = enterprises_by_code(admin)
    assert seen[f.credit_code(1)]["department_ids"] == [zjj["id"]]  # the sector's departments follow
    assert seen[f.credit_code(2)]["department_ids"] == [zjj["id"]]
    assert seen[f.credit_code(3)]["department_ids"] == [yjj["id"]]  # set by hand: kept
    staff = f.login_as(app, Role.DEPARTMENT_STAFF, username="staff-zjj", department_id=zjj["id"])
    assert sorted(e["name"] for e in f.ok(staff.get(f"{API}/enterprises"))["items"]) == ["企业2", "青山台账化工"]
    found = f.ok(admin.get(f"{API}/enterprises", query_string={"name": "台账"}))["items"]
    assert [e["credit_code"] for e in found] == [f.credit_code(1)]
    path = f"{API}/audit-events?entity_type=enterprises&entity_id={seen[f.credit_code(1)]['id']}"
    events = f.ok(admin.get(path))["items"]
    assert [(e["action"], e["actor"]) for e in events] == [("update", "root"), ("create", "root")]
    assert set(events[0]["after"]) == {"sector", "department_ids", "updated_at"}


def test_the_ledgers_limits_are_the_apis_and_the_docs_table_is_the_columns_table():
    from pathlib import Path

    import marshmallow as ma

    from api.enterprises.schemas import EnterpriseCreateSchema
    from api.fields import PHONE_PATTERN
    from models.enterprises import ledger_columns

    assert ledger_columns.PHONE_PATTERN == PHONE_PATTERN
    fields = EnterpriseCreateSchema().fields
    for column in COLUMNS:
        lengths = [v for v in getattr(fields.get(column.key), "validators", []) if isinstance(v, ma.validate.Length)]
        if lengths:
            assert f"1 to {lengths[0].max} characters" == column.allowed, column.key
    docs = (Path(__file__).resolve().parents[2] / "docs" / "enterprises-import.md").read_text("utf-8")
    assert ledger_columns.columns_markdown() in docs


def test_a_ledger_sent_as_anything_but_a_multipart_upload_is_a_415(world):
    sent = world.admin.post(f"{API}/enterprises/import", data=csv_file([row(1, 500, 500)]), content_type="text/csv")

    body = assert_problem(sent, 415, "unsupported-media-type")
    assert "multipart/form-data" in body["detail"]

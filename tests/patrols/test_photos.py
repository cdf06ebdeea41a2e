"""Photos sent after their record, by its UUID: of the patrol, a check-in or a finding (then the hazard's too); the
same image sent again is one photo; before the record, 404 and nothing kept. Both backends (see conftest.py)."""

from __future__ import annotations

import io
import uuid as uuids

from tests import factories as f
from tests.factories import API, assert_problem
from tests.hazards.helpers import JPEG
from tests.patrols.test_upload import record

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def send(client, uid: str, data: bytes, query: str = ""):
    return client.post(f"{API}/patrols/by-uuid/{uid}/photos{query}", data={"file": (io.BytesIO(data), "p.jpg")},
                       content_type="multipart/form-data")  # fmt: skip


def test_photos_follow_their_record_by_its_uuid(world):
    officer = world.as_("officer_a")
    plant = f.enterprise(world.admin, 500, 500, 1)
    finding = {"description": "灭火器过期", "kind": "unsafe_condition", "severity": "general"}
    body = record(world, check_ins=[{"enterprise_id": plant["id"], "at": f.ago(minutes=40).isoformat(),
                                     "result": "hazards_found", "findings": [finding]}])  # fmt: skip
    assert_problem(send(officer, body["uuid"], JPEG), 404, "not-found")  # the record is not there yet
    created = f.ok(officer.post(f"{API}/patrols", json=body), 201)
    whole = f.ok(send(officer, body["uuid"].upper(), JPEG), 201)
    assert (whole["patrol_id"], whole["check_in_id"], whole["hazard_id"]) == (created["id"], None, None)
    assert f.ok(send(officer, body["uuid"], JPEG), 200) == whole  # sent again: the same photo
    stop = f.ok(send(officer, body["uuid"], JPEG, "?check_in=0"), 201)
    assert (stop["check_in_id"], stop["check_in_seq"]) == (created["check_ins"][0]["id"], 0)
    found = f.ok(send(officer, body["uuid"], PNG, "?check_in=0&finding=0"), 201)
    hazard_id = created["findings"][0]["hazard_id"]
    assert found["hazard_id"] == hazard_id and found["hazard_photo_id"]
    in_ledger = f.ok(officer.get(f"{API}/hazards/{hazard_id}/photos"))["items"]
    assert [p["id"] for p in in_ledger] == [found["hazard_photo_id"]]
    assert f.ok(send(officer, body["uuid"], PNG, "?check_in=0&finding=0"), 200) == found
    listed = f.ok(world.as_("leader_a").get(f"{API}/patrols/{created['id']}/photos"))["items"]
    assert [p["id"] for p in listed] == [whole["id"], stop["id"], found["id"]]
    image = world.as_("viewer_a").get(f"{API}/patrols/{created['id']}/photos/{found['id']}")
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data == PNG
    assert_problem(send(officer, body["uuid"], JPEG, "?check_in=3"), 422, "check-in-not-found")
    assert_problem(send(officer, body["uuid"], JPEG, "?finding=0"), 422, "finding-not-found")
    assert_problem(send(officer, body["uuid"], b"GIF89a", ""), 422, "photo-type")
    assert_problem(send(world.as_("officer_b"), body["uuid"], JPEG), 404, "not-found")
    assert_problem(world.as_("leader_b").get(f"{API}/patrols/{created['id']}/photos"), 404, "not-found")
    assert_problem(send(world.as_("viewer_a"), body["uuid"], JPEG), 403, "forbidden")
    assert_problem(send(officer, str(uuids.uuid4()), JPEG), 404, "not-found")
    assert len(f.ok(officer.get(f"{API}/patrols/{created['id']}/photos"))["items"]) == 3

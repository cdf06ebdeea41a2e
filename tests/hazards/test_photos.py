"""Photos of hazards: uploaded with limits on size and type, stored once however often they are sent, served back
only to callers in scope, and named by the steps that rest on them. Every test runs on SpatiaLite and on PostGIS
(see conftest.py)."""

from __future__ import annotations

import io

from tests import factories as f
from tests.factories import API, assert_problem
from tests.hazards.helpers import JPEG, photo, report, step

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_a_photo_is_stored_once_and_served_back_in_its_own_type(world):
    officer = world.as_("officer_a")
    hazard = report(officer, 500, 500)
    first = f.ok(photo(officer, hazard, PNG), 201)
    again = f.ok(photo(officer, hazard, PNG), 200)
    assert again == first and (first["content_type"], first["size"], first["step_id"]) == ("image/png", len(PNG), None)
    listed = f.ok(officer.get(f"{API}/hazards/{hazard['id']}/photos"))["items"]
    assert [p["id"] for p in listed] == [first["id"]]
    image = world.as_("viewer_a").get(f"{API}/hazards/{hazard['id']}/photos/{first['id']}")
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data == PNG
    for outsider in ("leader_b", "officer_b"):
        assert_problem(world.as_(outsider).get(f"{API}/hazards/{hazard['id']}/photos/{first['id']}"), 404, "not-found")
        assert_problem(world.as_(outsider).get(f"{API}/hazards/{hazard['id']}/photos"), 404, "not-found")
    assert_problem(officer.get(f"{API}/hazards/{hazard['id']}/photos/999999"), 404, "not-found")


def test_what_is_not_a_photo_or_too_large_or_not_multipart_is_refused_and_stores_nothing(app, world, monkeypatch):
    admin = world.admin
    hazard = report(admin)
    assert_problem(photo(admin, hazard, b"GIF89a not accepted"), 422, "photo-type")
    assert_problem(photo(admin, hazard, b"<html>"), 422, "photo-type")
    monkeypatch.setitem(app.config, "PHOTO_MAX_BYTES", 100)
    assert_problem(photo(admin, hazard, JPEG + b"x" * 200), 413, "payload-too-large")
    not_multipart = admin.post(f"{API}/hazards/{hazard['id']}/photos", data=JPEG, content_type="image/jpeg")
    assert_problem(not_multipart, 415, "unsupported-media-type")
    assert_problem(world.as_("viewer_a").post(
        f"{API}/hazards/{hazard['id']}/photos", data={"file": (io.BytesIO(JPEG), "p.jpg")},
        content_type="multipart/form-data"), 403, "forbidden")  # fmt: skip
    assert f.ok(admin.get(f"{API}/hazards/{hazard['id']}/photos"))["items"] == []


def test_a_rectification_on_the_spot_rests_on_a_photo_and_a_photo_on_one_step(world):
    admin, leader = world.admin, world.as_("leader_a")
    hazard = report(admin)
    assert_problem(step(leader, hazard, "rectify_on_the_spot", photo_ids=[]), 422, "photo-required")
    shot = f.ok(photo(leader, hazard, JPEG + b"after"), 201)
    done = f.ok(step(leader, hazard, "rectify_on_the_spot", photo_ids=[shot["id"]]))
    assert done["status"] == "pending_acceptance"
    last = f.ok(admin.get(f"{API}/hazards/{hazard['id']}/steps"))["items"][-1]
    assert last["details"]["photo_ids"] == [shot["id"]]
    assert f.ok(admin.get(f"{API}/hazards/{hazard['id']}/photos"))["items"][0]["step_id"] == last["id"]
    refused = step(admin, done, "accept", photo_ids=[shot["id"]])
    assert_problem(refused, 422, "photo-not-found")
    other = report(admin, 600, 600)
    assert_problem(step(leader, other, "rectify_on_the_spot", photo_ids=[shot["id"]]), 422, "photo-not-found")
    assert f.ok(admin.get(f"{API}/hazards/{other['id']}"))["status"] == "reported"

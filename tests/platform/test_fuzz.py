"""Property-based tests generated from the OpenAPI document (schemathesis), and the limits the spec states.

Every operation of /api/v1/openapi.json is called with data drawn from its own schemas, valid and invalid, as a
county administrator and as a township leader, on both backends, against a small world (two townships, a village,
two cells, an officer who owns one of them). Schemathesis runs its examples, coverage (boundary values, missing and
malformed parts, undocumented methods) and fuzzing phases, and every answer must keep the promises of the spec, as
its default checks judge them: never a 5xx (not_a_server_error); only documented statuses, content types, headers
and bodies (status_code_conformance, content_type_conformance, response_schema_conformance...); a request that the
schemas admit is not refused as invalid (positive_data_acceptance), and one that they refuse is not accepted
(negative_data_rejection, missing_required_header). Examples are few and drawn deterministically, so a run is quick
(about a minute per backend) and repeatable; nothing is shrunk, a failure is reported as found.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.config import SchemathesisConfig

from api import create_app
from models.roles import Role
from tests import factories as f
from tests.factories import assert_problem

SPEC = "/api/v1/openapi.json"

CONFIG = {
    "seed": 20261123,
    # 10 fuzzed examples per operation and mode, on top of the coverage phase's cases; no example database on disk
    "generation": {"max-examples": 10, "deterministic": True, "database": "none", "no-shrink": True},
    "phases": {"stateful": {"enabled": False}},
    "checks": {
        # RFC 6585: a write without its required If-Match is 428 Precondition Required.
        "missing_required_header": {"expected-statuses": [400, 401, 403, 406, 415, 422, 428]},
        # An If-Match names a version of a record: whether it is current depends on the database, like a 409.
        "positive_data_acceptance": {"expected-statuses": ["2xx", 401, 403, 404, 409, 412, 429]},
        # An If-Match that is no entity tag of ours (RFC 9110 13.1.1) fails the precondition: 412.
        "negative_data_rejection": {"expected-statuses": [400, 401, 403, 404, 405, 406, 409, 412, 415, 422, 428, 429]},
    },
}

# Rules that no JSON Schema can state. A request whose data fit the schemas but break one of these is rightly refused
# with 422, so the positive-data check does not judge an answer whose every error is one of them. Each rule the
# schemas can state (lengths, patterns, ranges, years, GeoJSON structure, an empty patch...) is left to the check.
RULES_BEYOND_SCHEMAS = frozenset(
    {
        # the body names a record that does not exist, is retired or deactivated, lies outside the caller's scope,
        # or belongs to another township
        "parent-not-found", "parent-retired", "township-not-found", "township-retired", "officer-not-found",
        "officer-inactive", "officer-other-township", "township-mismatch", "department-not-found",
        "department-retired",
        # sectors are data, not code: the list of their codes is the database's (GET /api/v1/sectors)
        "sector-unknown",
        # a unit's code extends its parent's; its boundary lies within the parent, beside its siblings and around its
        # children; its rings close and do not cross (GEOS decides)
        "code-parent-mismatch", "outside-parent", "overlaps-sibling", "children-outside", "ring-not-closed",
        "geometry-self-intersection", "geometry-invalid",
        # times against the clock and the stored history; a correction that changes nothing of the stored entry
        "time-in-future", "valid-from-too-early", "valid-to-before-valid-from", "empty-correction",
        # what the caller's role allows: a county administrator names an officer's township, a leader may not move one
        "township-required", "township-change-not-allowed",
        # secrets: the current password, and a new one that contains the username or repeats the current one
        "wrong-password", "password-contains-username", "password-unchanged",
        # a cursor is one that the server handed out; an Idempotency-Key names one request (the generator may send the
        # same key again with another body)
        "invalid-cursor", "idempotency-key-reused",
        # a township leader places enterprises in their own township; a credit code's check character
        "location-outside-township", "credit-code-check",
        # a box's corners in order (west <= east, south <= north); a geometry to measure from of a province's size
        "bbox-inverted", "geometry-too-large",
        # an uploaded file is a ledger: readable as CSV or .xlsx, its columns known, required ones there, not too long
        "file-unreadable", "file-empty", "unknown-column", "duplicate-column", "missing-column", "too-many-rows",
        # a hazard is reported in the caller's scope, at an enterprise of theirs or a place described with its
        # position and sector; deadlines lie ahead; a major hazard's five implementations come before rectification
        "enterprise-not-found", "place-required", "sector-required", "position-required", "hazard-outside-scope",
        "deadline-in-past", "five-implementations-incomplete",
        # an enforcement document concerns hazards of its enterprise; a rectification order has a time limit; no
        # document is dated in the future
        "hazard-not-found", "time-limit-required", "date-in-future",
        # an extension asks for a later deadline, and an overdue hazard records its interim measures first
        "deadline-not-later", "interim-measures-required",
        # a photo is an image (told by its bytes); a rectification on the spot rests on one of the hazard's photos
        "photo-type", "photo-required", "photo-not-found",
        # a patrol record names cells and people in the caller's county, and ends after it starts; its photos name
        # a check-in or finding it has
        "cell-not-found", "user-not-found", "ended-before-started", "check-in-not-found", "finding-not-found",
        # a period's days in order (from <= to), and patrol coverage over at most 366 of them
        "period-inverted", "period-too-long",
        # a year of the holiday calendar as the notice gives it: each holiday once, its days off in order, within the
        # year and not overlapping another's, its working days weekend days near it and not off
        "range-inverted", "holiday-too-long", "day-outside-year", "holidays-overlap", "holiday-repeated",
        "working-day-is-off", "working-day-not-weekend", "working-day-far",
        # a duty period ends after it starts, its rosters are due before, its day duty ends at another time than
        # its shifts start, and it names at least one unit
        "ends-before-starts", "deadline-after-start", "split-at-shift-start", "no-units",
        # a roster is one unit's (one of township_id, department_id), of a period that names it; its shifts lie
        # inside the period, 25 hours at most, each naming active people of the unit once (one of officer_id,
        # user_id); a roster is submitted with shifts
        "one-unit", "period-not-found", "unit-not-in-period", "shift-too-long", "shift-outside-period", "one-person",
        "person-not-in-unit", "person-inactive", "person-repeated", "roster-empty",
    }
)  # fmt: skip


class Caller:
    """A logged-in user whose bearer token goes with every generated request."""

    def __init__(self, app: Flask, username: str) -> None:
        self.app, self.username, self.password = app, username, f.PASSWORD
        self.login()

    def login(self) -> None:
        self.token = f.token_for(self.app.test_client(), self.username, self.password)["access_token"]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def after(self, case: Any, response: Any) -> None:
        """A case may end the caller's own session (log out, a new password): log in again, with the new one."""
        if response.status_code == 200 and case.method == "POST" and case.body:
            path = case.operation.path
            own_reset = path.endswith("/users/{user_id}/password") and response.json()["username"] == self.username
            if own_reset or path.endswith("/auth/password"):
                self.password = case.body["new_password"]
        if response.status_code == 401:
            self.login()


@pytest.fixture(params=[Role.COUNTY_ADMIN, Role.TOWNSHIP_LEADER], ids=lambda r: r.value)
def caller(app: Flask, request: pytest.FixtureRequest) -> Caller:
    admin = f.login_as(app, Role.COUNTY_ADMIN, username="root")
    town = f.township(admin)
    f.township(admin, code="430199102", box=(5000, 0, 9000, 4000), name="白石乡")
    village = f.village(admin, town["id"])
    cell = f.cell(admin, village["id"])
    f.cell(admin, village["id"], code=f.VILLAGE_CODE + "002", box=(1000, 0, 2000, 1000), name="第2网格")
    officer = f.officer(admin, town["id"], name="张伟", mobile="13800138000")
    f.assignment(admin, cell["id"], officer["id"])
    if request.param is Role.COUNTY_ADMIN:
        return Caller(app, "root")
    f.add_user(app, Role.TOWNSHIP_LEADER, username="leader", township_id=town["id"])
    return Caller(app, "leader")


# The operations are collected when the module is imported, so the spec is read from an app of its own (the spec is
# the same for every backend, and this app never opens its database); each case is sent to the `app` under test.
schema = schemathesis.openapi.from_wsgi(
    SPEC, create_app({"DATABASE_URL": "sqlite://", "TESTING": True}), config=SchemathesisConfig.from_dict(CONFIG)
)


def broken_rules(response: Any) -> set[str]:
    """The codes of a 422 problem: the problem's own and each field error's."""
    if response.status_code != 422:
        return set()
    body = response.json()
    return {body["code"], *(e["code"] for e in body.get("errors", []))} - {"invalid-input"}


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # the world is built once per operation
def test_the_api_keeps_the_promises_of_its_spec(case, app, caller):
    response = case.call(headers=caller.headers, app=app)
    rules = broken_rules(response)
    excluded = [positive_data_acceptance] if rules and rules <= RULES_BEYOND_SCHEMAS else []
    try:
        case.validate_response(
            response, headers=caller.headers, transport_kwargs={"app": app}, excluded_checks=excluded
        )
    finally:
        caller.after(case, response)


# ---- what the spec states ---------------------------------------------------------------------------------------


def component(ref: dict[str, Any]) -> dict[str, Any]:
    return schema.raw_schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


def test_every_patch_refuses_an_empty_body_and_the_spec_says_so(client):
    patches = {path: ops["patch"] for path, ops in schema.raw_schema["paths"].items() if "patch" in ops}
    assert patches

    for path, operation in patches.items():
        body = component(operation["requestBody"]["content"]["application/json"]["schema"])
        assert body["minProperties"] == 1, path
        response = client.patch(
            re.sub(r"\{\w+\}", "1", path),
            json={},
            headers={"If-Match": "*"},
        )
        assert_problem(response, 422, "empty-patch")


def test_a_problem_declares_the_members_that_problems_carry():
    members = set(schema.raw_schema["components"]["schemas"]["Problem"]["properties"])

    assert {"type", "title", "status", "detail", "code", "instance", "errors"} <= members
    assert {"existing_id", "sibling_code", "child_code", "area_m2", "assignment_id", "current_version"} <= members
    assert "current_etag" in members


def test_a_boundary_may_carry_a_bbox_but_no_other_member(client):
    boundary = f.rect(0, 0, 1000, 1000)
    west, south = f.at(0, 0)
    east, north = f.at(1000, 1000)

    created = client.post(
        "/api/v1/townships",
        json={"code": f.TOWNSHIP_CODE, "name": "青山镇", "boundary": boundary | {"bbox": [west, south, east, north]}},
    )
    refused = client.post(
        "/api/v1/townships",
        json={"code": "430199102", "name": "白石乡", "boundary": boundary | {"crs": {"type": "name"}}},
    )

    assert created.status_code == 201, created.get_json()
    assert_problem(refused, 422, "unknown-field")

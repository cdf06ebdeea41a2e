"""One error shape for every failure (RFC 9457 problem+json), and an OpenAPI document that covers every route."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from api import create_app
from api.auth import PUBLIC, declare
from tests import factories as f
from tests.factories import API, PROBLEM_JSON, assert_problem, openapi_path, rect

SPEC_ROUTES = {f"{API}/openapi.json", f"{API}/docs", f"{API}/docs/static/<path:filename>"}
UNDOCUMENTED_METHODS = {"HEAD", "OPTIONS"}


# ---- every error is a problem -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [f"{API}/no-such-thing", f"{API}/townships/1/nothing", "/not-the-api"])
def test_an_unknown_url_is_a_404_problem(client, path):
    body = assert_problem(client.get(path), 404, "not-found")

    assert body["instance"] == path


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("delete", f"{API}/townships", {"GET", "POST"}),
        ("put", f"{API}/villages/1", {"GET", "PATCH"}),
        ("delete", f"{API}/grid-cells/1", {"GET", "PATCH"}),
        ("get", f"{API}/townships/1/retire", {"POST"}),
        ("post", f"{API}/grid-cells/locate", {"GET"}),
    ],
)
def test_a_wrong_method_is_a_405_problem_with_allow(client, method, path, allowed):
    response = getattr(client, method)(path)

    assert_problem(response, 405, "method-not-allowed")
    listed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed <= listed
    assert method.upper() not in listed


def test_a_malformed_json_body_is_a_400_problem(client):
    response = client.post(f"{API}/townships", data='{"code": "430199101", ', content_type="application/json")

    body = assert_problem(response, 400, "malformed-json")

    assert body["errors"][0]["in"] == "body"
    assert client.get(f"{API}/townships", query_string={"page_size": 10}).get_json()["total"] == 0


def test_a_taken_code_is_a_409_problem(client):
    town = f.township(client)

    body = assert_problem(
        client.post(
            f"{API}/townships", json={"code": town["code"], "name": "Again", "boundary": rect(9000, 0, 9100, 100)}
        ),
        409,
        "code-taken",
    )

    assert town["code"] in body["detail"]


def test_a_stale_if_match_is_a_412_problem(client):
    town = f.township(client)
    client.patch(f"{API}/townships/{town['id']}", json={"name": "B"}, headers={"If-Match": '"1"'})

    body = assert_problem(
        client.patch(f"{API}/townships/{town['id']}", json={"name": "C"}, headers={"If-Match": '"1"'}),
        412,
        "precondition-failed",
    )

    assert body["current_version"] == 2


def test_a_missing_if_match_is_a_428_problem(client):
    town = f.township(client)

    assert_problem(client.patch(f"{API}/townships/{town['id']}", json={"name": "B"}), 428, "precondition-required")
    assert_problem(client.post(f"{API}/townships/{town['id']}/retire"), 428, "precondition-required")


def test_invalid_input_is_a_422_problem_with_one_entry_per_field(client):
    open_ring = {"type": "Polygon", "coordinates": [[[113.0, 28.0], [113.01, 28.0], [113.01, 28.01], [113.0, 28.01]]]}

    response = client.post(f"{API}/townships", json={"code": "12", "boundary": open_ring})

    body = assert_problem(response, 422, "invalid-input")
    by_field = {e["field"]: e for e in body["errors"]}
    assert set(by_field) == {"code", "name", "boundary"}
    for field, entry in by_field.items():
        assert set(entry) == {"in", "field", "pointer", "code", "detail"}
        assert entry["in"] == "body"
        assert entry["pointer"] == f"/{field}"
        assert entry["detail"]
    assert by_field["code"]["code"] == "code-format"
    assert by_field["name"]["code"] == "required"
    assert by_field["boundary"]["code"] == "ring-not-closed"


def test_a_single_field_error_names_its_rule_as_the_problem_code(client):
    town = f.township(client)
    body = {"township_id": town["id"], "code": "430199101201", "name": "张家村", "boundary": {"type": "Point"}}

    problem = assert_problem(client.post(f"{API}/villages", json=body), 422, "geometry-type-not-allowed")

    assert problem["errors"] == [
        {
            "in": "body",
            "field": "boundary",
            "pointer": "/boundary",
            "code": "geometry-type-not-allowed",
            "detail": problem["detail"],
        }
    ]


def test_a_broken_domain_rule_is_a_422_problem_pointing_at_the_field(client):
    town = f.township(client, box=(0, 0, 1000, 1000))
    body = {"township_id": town["id"], "code": "430199101201", "name": "张家村", "boundary": rect(0, 0, 2000, 1000)}

    problem = assert_problem(client.post(f"{API}/villages", json=body), 422, "outside-parent")

    assert problem["errors"][0]["pointer"] == "/boundary"
    assert problem["errors"][0]["in"] == "body"
    assert problem["area_m2"] == pytest.approx(1_000_000, rel=0.005)


def test_a_bad_query_parameter_is_a_422_problem_in_the_query(client):
    body = assert_problem(client.get(f"{API}/townships", query_string={"page": 0, "page_size": 10}), 422, "invalid")

    assert body["errors"] == [{"in": "query", "field": "page", "code": "invalid", "detail": body["detail"]}]


def test_an_unexpected_failure_is_a_500_problem_that_leaks_nothing(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}", "TESTING": True})

    @app.get(f"{API}/boom")
    @declare(PUBLIC)
    def boom() -> None:
        raise RuntimeError("secret detail")

    response = app.test_client().get(f"{API}/boom")

    body = assert_problem(response, 500, "internal-error")
    assert "secret detail" not in response.get_data(as_text=True)
    assert "RuntimeError" not in response.get_data(as_text=True)
    assert body["instance"] == f"{API}/boom"


# ---- OpenAPI ------------------------------------------------------------------------------------------------------


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        *_, kind, name = node["$ref"].split("/")
        node = spec["components"][kind][name]
    return node


def _operations(spec: dict[str, Any]):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("get", "put", "post", "patch", "delete"):
                yield path, method, operation


def test_every_api_route_and_method_is_in_the_spec(app: Flask, spec):
    expected = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API) or rule.rule in SPEC_ROUTES:
            continue
        for method in rule.methods - UNDOCUMENTED_METHODS:
            expected.add((openapi_path(rule.rule), method.lower()))
    documented = {(path, method) for path, method, _ in _operations(spec)}

    assert expected, "no API routes found"
    assert expected - documented == set()
    assert documented - expected == set()
    # the routes a user of this module relies on, by name
    assert {
        (f"{API}/grid-cells/locate", "get"),
        (f"{API}/villages/{{unit_id}}/coverage-gaps", "get"),
        (f"{API}/townships/{{unit_id}}/retire", "post"),
        (f"{API}/grid-cells/{{unit_id}}", "patch"),
    } <= documented


def test_every_operation_documents_a_success_body(spec):
    missing = []
    for path, method, operation in _operations(spec):
        if set(operation["responses"]) & {"204"}:
            continue  # No Content: nothing to describe
        successes = [_resolve(spec, r) for code, r in operation["responses"].items() if code.startswith("2")]
        if not any("schema" in media for response in successes for media in response.get("content", {}).values()):
            missing.append(f"{method.upper()} {path}")

    assert not missing, "\n".join(missing)


# Actions that take no body: retiring and deactivating an account need only If-Match; logging out only the token.
BODYLESS_ACTIONS = ("/retire", "/auth/logout", "/users/{user_id}/deactivate", "/submit", "/approve")


def test_every_write_with_a_body_documents_it(spec):
    missing = []
    for path, method, operation in _operations(spec):
        if method not in ("post", "patch") or path.endswith(BODYLESS_ACTIONS):
            continue
        content = operation.get("requestBody", {}).get("content", {})
        media = "multipart/form-data" if "multipart/form-data" in content else "application/json"  # a file upload
        if "schema" not in content.get(media, {}):
            missing.append(f"{method.upper()} {path}")

    assert not missing, "\n".join(missing)


def test_every_documented_error_is_a_problem(spec):
    wrong = []
    for path, method, operation in _operations(spec):
        for code, response in operation["responses"].items():
            if code != "default" and int(code) < 400:
                continue
            content = _resolve(spec, response).get("content", {})
            schema = content.get(PROBLEM_JSON, {}).get("schema", {})
            if set(content) != {PROBLEM_JSON} or schema.get("$ref") != "#/components/schemas/Problem":
                wrong.append(f"{method.upper()} {path} {code}: {sorted(content) or 'no content'}")

    assert not wrong, "\n".join(wrong)


def test_the_problem_schema_is_a_component(spec):
    problem = spec["components"]["schemas"]["Problem"]

    assert {"type", "title", "status", "detail", "code", "errors"} <= set(problem["properties"])
    field_error = _resolve(spec, problem["properties"]["errors"]["items"])
    assert {"in", "field", "pointer", "code", "detail"} <= set(field_error["properties"])


def test_query_arguments_are_documented(spec):
    def query_names(path: str) -> set[str]:
        parameters = spec["paths"][path]["get"].get("parameters", [])
        return {p["name"] for p in parameters if p["in"] == "query"}

    filters = {"name", "code", "include_retired", "format"}
    by_page, by_cursor = {"page", "page_size", "count"}, {"cursor", "page_size", "count"}
    assert query_names(f"{API}/townships") == filters | by_page
    assert query_names(f"{API}/villages") == filters | by_cursor | {"township_id"}
    assert query_names(f"{API}/grid-cells") == filters | by_cursor | {"township_id", "village_id", "has_owner"}
    assert query_names(f"{API}/grid-cells/locate") == {"lon", "lat", "coord_system"}


def test_the_docs_page_is_html(client):
    response = client.get(f"{API}/docs")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert f"{API}/openapi.json" in response.get_data(as_text=True)


# ---- input that must never reach the database as it is ------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("post", f"{API}/auth/token", {"username": "adm\u0000in", "password": "x"}, 422, "nul-character"),
        ("get", f"{API}/villages?name=a%00b", None, 422, "nul-character"),
        (
            "post",
            f"{API}/officers",
            {"name": "赵\u0000六", "mobile": "13912345671", "township_id": 1},
            422,
            "nul-character",
        ),
        ("get", f"{API}/officers/99999999999999999999", None, 404, "not-found"),
        ("get", f"{API}/townships/2147483648", None, 404, "not-found"),
        ("get", f"{API}/grid-assignments?officer_id=99999999999", None, 422, "id-out-of-range"),
        ("get", f"{API}/villages?township_id=0", None, 422, "id-out-of-range"),
        ("get", f"{API}/townships?page=99999999999999", None, 422, "invalid"),
        ("get", f"{API}/grid-assignments?at=0001-01-01T00:00:00%2B01:00", None, 422, "time-out-of-range"),
        ("get", f"{API}/audit-events?since=9999-12-31T23:59:59-01:00", None, 422, "time-out-of-range"),
    ],
)
def test_input_the_database_cannot_hold_is_refused_before_it(client, method, path, body, status, code):
    before = client.get(f"{API}/officers?include_inactive=true").get_json()["total"]
    response = getattr(client, method)(path, json=body) if body is not None else getattr(client, method)(path)

    assert_problem(response, status, code)
    assert client.get(f"{API}/officers?include_inactive=true").get_json()["total"] == before

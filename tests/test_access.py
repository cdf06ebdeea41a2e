"""Who may do what: every route declares its access rule, every role reaches exactly its scope, and an object
outside the caller's scope answers exactly like one that does not exist.

The county below (the `world` fixture) has two townships, A and B, each with a village, two cells and two
officers. Cell cA1 has a team (owner oA1, member oA2), cB1 an owner (oB1); cA2 and cB2 have nobody yet. Each
township has a leader, a grid officer and a viewer account. Callers:

- admin          county administrator (the `client` fixture, user "root")
- leader_a       township leader of A
- officer_a      grid officer linked to officer oA1, the owner of cell cA1
- viewer_a       viewer of A
- viewer_county  viewer without a township (the whole county, read-only)

Every test runs on SpatiaLite and on PostGIS (see conftest.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.auth import endpoint_rule
from models.roles import Role
from tests import factories as f
from tests.factories import PASSWORD, assert_problem, at, rect

API = "/api/v1"
PROBLEM_JSON = "application/problem+json"
MISSING = 999_999  # an id that no table holds
NOWHERE = at(7000, 3000)  # inside township B's box, but in no village and no cell

# ---- expected answers ---------------------------------------------------------------------------------------------

Outcome = tuple[int, str | None]  # (status, problem code); code None for a success
OK: Outcome = (200, None)
NOT_FOUND: Outcome = (404, "not-found")
NO_CELL_HERE: Outcome = (404, "no-cell-here")
FORBIDDEN: Outcome = (403, "forbidden")
PARENT_NOT_FOUND: Outcome = (422, "parent-not-found")
OFFICER_NOT_FOUND: Outcome = (422, "officer-not-found")
TOWNSHIP_NOT_FOUND: Outcome = (422, "township-not-found")

ROLES = ("admin", "leader_a", "officer_a", "viewer_a", "viewer_county")
ATTACKERS = ("leader_a", "officer_a", "viewer_a")

# who: (role, township key, officer key)
ACCOUNTS: dict[str, tuple[Role, str | None, str | None]] = {
    "leader_a": (Role.TOWNSHIP_LEADER, "tA", None),
    "leader_b": (Role.TOWNSHIP_LEADER, "tB", None),
    "officer_a": (Role.GRID_OFFICER, None, "oA1"),
    "officer_b": (Role.GRID_OFFICER, None, "oB1"),
    "viewer_a": (Role.VIEWER, "tA", None),
    "viewer_b": (Role.VIEWER, "tB", None),
    "viewer_county": (Role.VIEWER, None, None),
}
B_KEYS = ("tB", "vB", "cB1", "cB2", "oB1", "oB2", "aB1", "u_leader_b", "u_officer_b", "u_viewer_b")


def username_of(who: str) -> str:
    return who.replace("_", "-")


# ---- helpers ------------------------------------------------------------------------------------------------------


def send(client: FlaskClient, method: str, path: str, body: Any = None):
    """One request to the API; every write names any version (If-Match: *), so only access decides the answer."""
    headers = {"If-Match": "*"} if method in ("POST", "PATCH") else {}
    return client.open(f"{API}/{path}", method=method, json=body, headers=headers)


def outcome_of(response) -> Outcome:
    if response.status_code >= 400:
        return response.status_code, response.get_json(force=True).get("code")
    return response.status_code, None


def comparable(response) -> tuple[Any, ...]:
    """What a caller learns from an answer, minus the id it echoes (`detail`, `instance`)."""
    body = response.get_json(force=True, silent=True) or {}
    if response.status_code < 400:
        return response.status_code, body
    errors = sorted((e.get("in"), e.get("field"), e.get("code")) for e in body.get("errors", []))
    return response.status_code, body.get("code"), sorted(set(body) - {"detail", "instance"}), errors


def locate_path(point: list[float]) -> str:
    return f"grid-cells/locate?lon={point[0]}&lat={point[1]}"


def resolve(value: Any, ids: Mapping[str, Any]) -> Any:
    """Replace "{name}" placeholders (whole strings) and "{name}" inside paths by the world's ids."""
    if isinstance(value, dict):
        return {k: resolve(v, ids) for k, v in value.items()}
    if isinstance(value, str):
        whole = re.fullmatch(r"\{(\w+)\}", value)
        if whole:
            return ids[whole.group(1)]
        return value.format_map(ids)
    return value


# ---- the county ---------------------------------------------------------------------------------------------------


@dataclass
class World:
    app: Flask
    admin: FlaskClient
    ids: dict[str, int]
    clients: dict[str, FlaskClient] = field(default_factory=dict)

    def __getitem__(self, name: str) -> int:
        return self.ids[name]

    def as_(self, who: str) -> FlaskClient:
        """A client logged in as one of the callers (logged in once, on first use)."""
        if who == "admin":
            return self.admin
        if who not in self.clients:
            client = self.app.test_client()
            self.clients[who] = f.authorise(client, f.token_for(client, username_of(who))["access_token"])
        return self.clients[who]

    def names(self, items: list[dict[str, Any]], prefix: str) -> list[str]:
        """The world's names of listed rows (e.g. ["cA1", "cB2"]), sorted; an unknown row shows as "?<id>"."""
        by_id = {v: k for k, v in self.ids.items() if k.startswith(prefix)}
        return sorted(by_id.get(item["id"], f"?{item['id']}") for item in items)


def _assign(admin: FlaskClient, cell_id: int, officer_id: int, role: str) -> int:
    response = admin.post(
        f"{API}/grid-cells/{cell_id}/assignments",
        json={"officer_id": officer_id, "role": role, "reason": "村两委会议决定"},
        headers={"If-Match": "*"},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> World:
    """The two-township county of the module docstring, built through the API as the county administrator."""
    admin = client
    ids: dict[str, int] = {}
    ids["tA"] = f.township(admin, "430199101", box=(0, 0, 4000, 4000), name="青山镇")["id"]
    ids["tB"] = f.township(admin, "430199102", box=(4000, 0, 8000, 4000), name="绿水镇")["id"]
    ids["vA"] = f.village(admin, ids["tA"], "430199101201", box=(0, 0, 2000, 2000), name="张家村")["id"]
    ids["vB"] = f.village(admin, ids["tB"], "430199102201", box=(4000, 0, 6000, 2000), name="王家村")["id"]
    for key, village, code, box in [
        ("cA1", "vA", "430199101201001", (0, 0, 1000, 1000)),
        ("cA2", "vA", "430199101201002", (1000, 0, 2000, 1000)),
        ("cB1", "vB", "430199102201001", (4000, 0, 5000, 1000)),
        ("cB2", "vB", "430199102201002", (5000, 0, 6000, 1000)),
    ]:
        ids[key] = f.cell(admin, ids[village], code, box=box, name=f"网格{key}")["id"]
    for n, (key, township, name) in enumerate(
        [("oA1", "tA", "张伟"), ("oA2", "tA", "李强"), ("oB1", "tB", "王芳"), ("oB2", "tB", "赵敏")], start=1
    ):
        body = {"name": name, "mobile": f"1380013800{n}", "township_id": ids[township]}
        ids[key] = f.create(admin, "officers", body)["id"]
    ids["aA1"] = _assign(admin, ids["cA1"], ids["oA1"], "owner")
    ids["aA2"] = _assign(admin, ids["cA1"], ids["oA2"], "member")
    ids["aB1"] = _assign(admin, ids["cB1"], ids["oB1"], "owner")
    for who, (role, township, officer) in ACCOUNTS.items():
        ids[f"u_{who}"] = f.add_user(
            app,
            role,
            username=username_of(who),
            township_id=ids[township] if township else None,
            officer_id=ids[officer] if officer else None,
        )
    me = admin.get(f"{API}/auth/me")
    assert me.status_code == 200
    ids["u_admin"] = me.get_json()["id"]
    return World(app=app, admin=admin, ids=ids)


SNAPSHOT_LISTS = (
    ("townships", {"include_retired": "true"}),
    ("villages", {"include_retired": "true"}),
    ("grid-cells", {"include_retired": "true"}),
    ("officers", {"include_inactive": "true"}),
    ("grid-assignments", {"include_superseded": "true"}),
    ("users", {"include_inactive": "true"}),
)


def snapshot(admin: FlaskClient) -> dict[str, Any]:
    """Everything the county administrator can see: every list, every item with its ETag, every team's ETag, and
    the audit trail's size and newest events."""
    state: dict[str, Any] = {}
    for path, query in SNAPSHOT_LISTS:
        listed = admin.get(f"{API}/{path}", query_string={**query, "page_size": 500})
        assert listed.status_code == 200, listed.get_json()
        state[path] = listed.get_json()
        for item in listed.get_json()["items"]:
            one = admin.get(f"{API}/{path}/{item['id']}")
            state[f"{path}/{item['id']}"] = (one.status_code, one.headers.get("ETag"), one.get_json())
    for cell in state["grid-cells"]["items"]:
        team = admin.get(f"{API}/grid-cells/{cell['id']}/team")
        state[f"grid-cells/{cell['id']}/team"] = (team.status_code, team.headers.get("ETag"), team.get_json())
    audit = admin.get(f"{API}/audit-events", query_string={"page_size": 5, "count": "true"})
    assert audit.status_code == 200
    state["audit-events"] = (audit.get_json()["total"], audit.get_json()["items"])
    return state


def assert_unchanged(before: dict[str, Any], after: dict[str, Any]) -> None:
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert changed == [], f"changed: {changed}"
    assert after == before


# ---- 1. every route has a rule, and the spec says so -------------------------------------------------------------

PUBLIC_OPERATIONS = {
    ("api-docs.openapi_json", "GET"),
    ("api-docs.openapi_swagger_ui", "GET"),
    ("swagger-ui.asset", "GET"),
    ("auth.Token", "POST"),
    ("auth.Refresh", "POST"),
}


def _routes(app: Flask):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_and_method_declares_who_may_call_it(app):
    undeclared = [
        f"{method} {rule.rule} ({rule.endpoint})"
        for rule, method in _routes(app)
        if endpoint_rule(app, rule.endpoint, method) is None
    ]
    walked = {(rule.endpoint, method) for rule, method in _routes(app)}

    assert undeclared == []
    assert len(walked) >= 30  # the walk saw the whole API, not an empty map
    assert {("grid-assignments.CellAssignments", "POST"), ("users.UserPassword", "POST")} <= walked


def test_only_logging_in_refreshing_and_the_api_docs_are_public(app):
    public = {
        (rule.endpoint, method) for rule, method in _routes(app) if endpoint_rule(app, rule.endpoint, method).public
    }

    assert public == PUBLIC_OPERATIONS


def test_the_audit_trail_accounts_and_coverage_gaps_admit_only_their_roles(app):
    roles = {
        (rule.endpoint, method): endpoint_rule(app, rule.endpoint, method).roles
        for rule, method in _routes(app)
        if rule.endpoint.startswith(("audit-events.", "users.")) or rule.endpoint.endswith("CoverageGaps")
    }

    assert roles.pop(("audit-events.AuditEvents", "GET")) == {Role.COUNTY_ADMIN}
    assert roles.pop(("villages.VillageCoverageGaps", "GET")) == {Role.COUNTY_ADMIN, Role.TOWNSHIP_LEADER, Role.VIEWER}
    assert len(roles) == 6  # users: list, create, get, patch, deactivate, password reset
    assert set(roles.values()) == {frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_LEADER})}


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


@pytest.fixture
def spec(anonymous) -> dict[str, Any]:
    response = anonymous.get(f"{API}/openapi.json")  # public: no token needed
    assert response.status_code == 200
    return response.get_json()


def test_every_protected_operation_documents_bearer_auth_401_403_and_who_may_call(spec):
    public = {(f"{API}/auth/token", "post"), (f"{API}/auth/refresh", "post")}
    operations = [
        (path, method, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    problems = []
    for path, method, op in operations:
        where = f"{method.upper()} {path}"
        if (path, method) in public:
            if op.get("security") != []:
                problems.append(f"{where}: public, but security is {op.get('security')!r}")
            continue
        if op.get("security") != [{"bearerAuth": []}]:
            problems.append(f"{where}: security is {op.get('security')!r}")
        missing = {"401", "403"} - set(op["responses"])
        if missing:
            problems.append(f"{where}: does not document {sorted(missing)}")
        if "Who may call" not in op.get("description", ""):
            problems.append(f"{where}: no 'Who may call' in its description")

    assert len(operations) >= 30
    assert {(p, m) for p, m, _ in operations} >= public
    assert problems == []
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")


def test_the_roles_in_the_spec_are_the_roles_the_app_enforces(app, spec):
    mismatches = []
    for rule, method in _routes(app):
        if not rule.rule.startswith(API) or (rule.endpoint, method) in PUBLIC_OPERATIONS:
            continue
        op = spec["paths"][_openapi_path(rule.rule)][method.lower()]
        enforced = endpoint_rule(app, rule.endpoint, method).roles
        documented = set(op.get("x-roles", []))
        if documented != {role.value for role in enforced}:
            mismatches.append(f"{method} {rule.rule}: documents {sorted(documented)}, enforces {sorted(enforced)}")
        who_may_call = op["description"].partition("**Who may call:**")[2].split(".")[0]
        named = {role.value for role in Role if role.value in who_may_call}
        if "every role" in who_may_call:
            named = {role.value for role in Role}
        if named != {role.value for role in enforced}:
            mismatches.append(f"{method} {rule.rule}: 'Who may call' names {sorted(named)}: {who_may_call!r}")

    assert mismatches == []


# ---- 2. each role against each endpoint family --------------------------------------------------------------------

ALL_TOWNSHIPS = ["tA", "tB"]
ALL_VILLAGES = ["vA", "vB"]
ALL_CELLS = ["cA1", "cA2", "cB1", "cB2"]
ALL_OFFICERS = ["oA1", "oA2", "oB1", "oB2"]
ALL_ASSIGNMENTS = ["aA1", "aA2", "aB1"]
ALL_USERS = sorted(["u_admin", *(f"u_{who}" for who in ACCOUNTS)])
USERS_OF_A = ["u_leader_a", "u_officer_a", "u_viewer_a"]

# (list, query, prefix of its rows' names, rows seen by: admin, leader_a, officer_a, viewer_a, viewer_county)
# FORBIDDEN: the role is not admitted.
LISTS: list[tuple[str, dict[str, str], str, tuple[Any, ...]]] = [
    ("townships", {}, "t", (ALL_TOWNSHIPS, ["tA"], ["tA"], ["tA"], ALL_TOWNSHIPS)),
    ("villages", {}, "v", (ALL_VILLAGES, ["vA"], ["vA"], ["vA"], ALL_VILLAGES)),
    ("villages", {"township_id": "{tB}"}, "v", (["vB"], [], [], [], ["vB"])),
    ("grid-cells", {}, "c", (ALL_CELLS, ["cA1", "cA2"], ["cA1"], ["cA1", "cA2"], ALL_CELLS)),
    ("grid-cells", {"has_owner": "false"}, "c", (["cA2", "cB2"], ["cA2"], [], ["cA2"], ["cA2", "cB2"])),
    ("grid-cells", {"has_owner": "true"}, "c", (["cA1", "cB1"], ["cA1"], ["cA1"], ["cA1"], ["cA1", "cB1"])),
    ("grid-cells", {"village_id": "{vB}"}, "c", (["cB1", "cB2"], [], [], [], ["cB1", "cB2"])),
    (
        "grid-cells",
        {"township_id": "{tA}"},
        "c",
        (["cA1", "cA2"], ["cA1", "cA2"], ["cA1"], ["cA1", "cA2"], ["cA1", "cA2"]),
    ),
    ("officers", {}, "o", (ALL_OFFICERS, ["oA1", "oA2"], ["oA1"], ["oA1", "oA2"], ALL_OFFICERS)),
    ("officers", {"township_id": "{tB}"}, "o", (["oB1", "oB2"], [], [], [], ["oB1", "oB2"])),
    ("grid-assignments", {}, "a", (ALL_ASSIGNMENTS, ["aA1", "aA2"], ["aA1", "aA2"], ["aA1", "aA2"], ALL_ASSIGNMENTS)),
    ("grid-assignments", {"officer_id": "{oB1}"}, "a", (["aB1"], [], [], [], ["aB1"])),
    ("users", {}, "u_", (ALL_USERS, USERS_OF_A, FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    ("users", {"township_id": "{tB}"}, "u_", (["u_leader_b", "u_officer_b", "u_viewer_b"], [], *(FORBIDDEN,) * 3)),
]


def test_lists_hold_exactly_the_rows_in_each_callers_scope(world):
    mismatches = []
    for who in ROLES:
        caller = world.as_(who)
        for path, query, prefix, expected_by_role in LISTS:
            expected = expected_by_role[ROLES.index(who)]
            response = caller.get(f"{API}/{path}", query_string={**resolve(query, world.ids), "count": "true"})
            label = f"{who}: GET {path} {query}"
            if expected == FORBIDDEN:
                if outcome_of(response) != FORBIDDEN:
                    mismatches.append(f"{label}: expected 403 forbidden, got {outcome_of(response)}")
                continue
            if response.status_code != 200:
                mismatches.append(f"{label}: expected 200, got {outcome_of(response)}")
                continue
            body = response.get_json()
            got = world.names(body["items"], prefix)
            if got != sorted(expected) or body["total"] != len(expected):
                mismatches.append(f"{label}: expected {sorted(expected)}, got {got} (total {body['total']})")

    assert mismatches == []


# (GET path, answer for: admin, leader_a, officer_a, viewer_a, viewer_county)
ITEM_READS: list[tuple[str, tuple[Outcome, ...]]] = [
    ("townships/{tA}", (OK, OK, OK, OK, OK)),
    ("townships/{tB}", (OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK)),
    ("villages/{vA}", (OK, OK, OK, OK, OK)),
    ("villages/{vB}", (OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK)),
    ("villages/{vA}/coverage-gaps", (OK, OK, FORBIDDEN, OK, OK)),
    ("villages/{vB}/coverage-gaps", (OK, NOT_FOUND, FORBIDDEN, NOT_FOUND, OK)),
    ("grid-cells/{cA1}", (OK, OK, OK, OK, OK)),
    ("grid-cells/{cA2}", (OK, OK, NOT_FOUND, OK, OK)),
    ("grid-cells/{cB1}", (OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK)),
    ("grid-cells/{cA1}/team", (OK, OK, OK, OK, OK)),
    ("grid-cells/{cA2}/team", (OK, OK, NOT_FOUND, OK, OK)),
    ("grid-cells/{cB1}/team", (OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK)),
    ("officers/{oA1}", (OK, OK, OK, OK, OK)),
    ("officers/{oA2}", (OK, OK, NOT_FOUND, OK, OK)),  # in officer_a's team, but not officer_a
    ("officers/{oB1}", (OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK)),
    ("officers/{oA1}/cells", (OK, OK, OK, OK, OK)),
    ("officers/{oA2}/cells", (OK, OK, NOT_FOUND, OK, OK)),
    ("officers/{oB1}/cells", (OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK)),
    ("grid-assignments/{aA1}", (OK, OK, OK, OK, OK)),
    ("grid-assignments/{aA2}", (OK, OK, OK, OK, OK)),  # an assignment of officer_a's cell
    ("grid-assignments/{aB1}", (OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK)),
    ("users/{u_viewer_a}", (OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    ("users/{u_officer_a}", (OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    ("users/{u_leader_b}", (OK, NOT_FOUND, FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    ("users/{u_admin}", (OK, NOT_FOUND, FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    ("audit-events", (OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    ("auth/me", (OK, OK, OK, OK, OK)),
]


def _answered_id(path: str, body: dict[str, Any]) -> Any:
    if path.endswith("/team"):
        return body["cell"]["id"]
    if path.endswith("/coverage-gaps"):
        return body["village_id"]
    if path.endswith("/cells"):
        return body["officer_id"]
    return body.get("id")


def test_items_in_scope_are_answered_and_items_outside_it_are_not_found(world):
    mismatches = []
    for who in ROLES:
        caller = world.as_(who)
        for template, expected_by_role in ITEM_READS:
            expected = expected_by_role[ROLES.index(who)]
            path = resolve(template, world.ids)
            response = caller.get(f"{API}/{path}")
            got = outcome_of(response)
            label = f"{who}: GET {template}"
            if got != expected:
                mismatches.append(f"{label}: expected {expected}, got {got}")
                continue
            if expected == OK and "{" in template:
                wanted = world[re.search(r"\{(\w+)\}", template).group(1)]
                if _answered_id(path, response.get_json()) != wanted:
                    mismatches.append(f"{label}: answered another object")
                if response.headers.get("ETag") is None and not path.endswith(("/coverage-gaps", "/cells")):
                    mismatches.append(f"{label}: no ETag")

    assert mismatches == []


# (point, the cell found by: admin, leader_a, officer_a, viewer_a, viewer_county; None: 404 no-cell-here)
LOCATES = [
    ((500, 500), ("cA1", "cA1", "cA1", "cA1", "cA1")),
    ((1500, 500), ("cA2", "cA2", None, "cA2", "cA2")),
    ((4500, 500), ("cB1", None, None, None, "cB1")),
    ((5500, 500), ("cB2", None, None, None, "cB2")),
]


def test_locate_finds_only_cells_in_the_callers_scope(world):
    found: dict[str, list[str | None]] = {}
    for who in ROLES:
        found[who] = []
        for (x, y), _ in LOCATES:
            response = world.as_(who).get(f"{API}/{locate_path(at(x, y))}")
            if response.status_code == 200:
                found[who].append(world.names([response.get_json()], "c")[0])
            else:
                assert_problem(response, 404, "no-cell-here")
                found[who].append(None)

    assert found == {who: [cells[ROLES.index(who)] for _, cells in LOCATES] for who in ROLES}


# (role, scope fields from /auth/me: county_wide, township, officer, cell_ids, read_only)
ME = {
    "admin": (Role.COUNTY_ADMIN, True, None, None, None, False),
    "leader_a": (Role.TOWNSHIP_LEADER, False, "tA", None, None, False),
    # read_only describes the role: a viewer never writes; a grid officer will record patrols (a later issue)
    "officer_a": (Role.GRID_OFFICER, False, "tA", "oA1", ["cA1"], False),
    "viewer_a": (Role.VIEWER, False, "tA", None, None, True),
    "viewer_county": (Role.VIEWER, True, None, None, None, True),
}


def test_me_tells_each_caller_their_role_and_scope(world):
    def named(key: str | None) -> int | None:
        return world[key] if key else None

    got, expected = {}, {}
    for who in ROLES:
        response = world.as_(who).get(f"{API}/auth/me")
        assert response.status_code == 200
        body = response.get_json()
        scope = body["scope"]
        assert body["id"] == world[f"u_{who}"]
        assert "password_hash" not in body
        got[who] = (body["role"], scope["county_wide"], scope["township_id"], scope["officer_id"], scope["cell_ids"])
        got[who] += (scope["read_only"],)
        role, county_wide, township, officer, cells, read_only = ME[who]
        cell_ids = [world[c] for c in cells] if cells is not None else None
        expected[who] = (role.value, county_wide, named(township), named(officer), cell_ids, read_only)

    assert got == expected


# (method, path, body, answer for: leader_a, officer_a, viewer_a; None: admitted, tested elsewhere)
# The bodies are valid and every write sends If-Match: *, so a role gate that let the call through would show.
NEW_VILLAGE = {"township_id": "{tA}", "code": "430199101202", "name": "李家村", "boundary": rect(2000, 0, 4000, 2000)}
NEW_CELL = {"village_id": "{vA}", "code": "430199101201003", "name": "第3网格", "boundary": rect(0, 1000, 1000, 2000)}
NEW_OFFICER = {"name": "孙丽", "mobile": "13900139000", "township_id": "{tA}"}
NEW_VIEWER = {"username": "new-viewer", "display_name": "新人", "password": PASSWORD, "role": "viewer"}
WRITES: list[tuple[str, str, Any, tuple[Outcome | None, ...]]] = [
    (
        "POST",
        "townships",
        {"code": "430199103", "name": "新镇", "boundary": rect(8000, 0, 9000, 1000)},
        (FORBIDDEN,) * 3,
    ),
    ("PATCH", "townships/{tA}", {"name": "红旗镇"}, (FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    ("POST", "townships/{tB}/retire", None, (FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    ("POST", "villages", NEW_VILLAGE, (None, FORBIDDEN, FORBIDDEN)),
    ("PATCH", "villages/{vA}", {"name": "张家新村"}, (None, FORBIDDEN, FORBIDDEN)),
    ("POST", "villages/{vA}/retire", None, (None, FORBIDDEN, FORBIDDEN)),
    ("POST", "grid-cells", NEW_CELL, (None, FORBIDDEN, FORBIDDEN)),
    ("PATCH", "grid-cells/{cA1}", {"name": "东片网格"}, (None, FORBIDDEN, FORBIDDEN)),
    ("POST", "grid-cells/{cA2}/retire", None, (None, FORBIDDEN, FORBIDDEN)),
    ("POST", "officers", NEW_OFFICER, (None, FORBIDDEN, FORBIDDEN)),
    ("PATCH", "officers/{oA1}", {"title": "网格长"}, (None, FORBIDDEN, FORBIDDEN)),
    ("POST", "officers/{oA2}/deactivate", {"reason": "调离"}, (None, FORBIDDEN, FORBIDDEN)),
    (
        "POST",
        "grid-cells/{cA2}/assignments",
        {"officer_id": "{oA2}", "role": "owner", "reason": "分工调整"},
        (None, FORBIDDEN, FORBIDDEN),
    ),
    ("POST", "grid-assignments/{aA2}/end", {"reason": "调岗"}, (None, FORBIDDEN, FORBIDDEN)),
    ("POST", "grid-assignments/{aA2}/correct", {"reason": "录入错误", "role": "owner"}, (None, FORBIDDEN, FORBIDDEN)),
    ("GET", "users", None, (None, FORBIDDEN, FORBIDDEN)),
    ("POST", "users", NEW_VIEWER, (None, FORBIDDEN, FORBIDDEN)),
    ("GET", "users/{u_viewer_a}", None, (None, FORBIDDEN, FORBIDDEN)),
    ("PATCH", "users/{u_viewer_a}", {"display_name": "改名"}, (None, FORBIDDEN, FORBIDDEN)),
    ("POST", "users/{u_viewer_a}/password", {"new_password": "a brand new secret"}, (None, FORBIDDEN, FORBIDDEN)),
    ("POST", "users/{u_viewer_a}/deactivate", None, (None, FORBIDDEN, FORBIDDEN)),
    ("GET", "audit-events", None, (FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    ("GET", "villages/{vA}/coverage-gaps", None, (None, FORBIDDEN, None)),
    # a township leader manages grid officer and viewer accounts of their township, and no other account
    ("POST", "users", {**NEW_VIEWER, "role": "township_leader", "township_id": "{tA}"}, (FORBIDDEN,) * 3),
    ("POST", "users", {**NEW_VIEWER, "role": "county_admin"}, (FORBIDDEN,) * 3),
    ("PATCH", "users/{u_viewer_a}", {"role": "township_leader"}, (FORBIDDEN,) * 3),
    ("PATCH", "users/{u_viewer_a}", {"role": "county_admin"}, (FORBIDDEN,) * 3),
    ("PATCH", "users/{u_leader_a}", {"display_name": "我"}, (FORBIDDEN,) * 3),
    ("POST", "users/{u_leader_a}/password", {"new_password": "a brand new secret"}, (FORBIDDEN,) * 3),
    ("POST", "users/{u_leader_a}/deactivate", None, (FORBIDDEN,) * 3),
]


def test_each_role_is_forbidden_every_endpoint_and_account_it_may_not_touch(world):
    before = snapshot(world.admin)
    mismatches, refused = [], 0
    for who in ATTACKERS:
        caller = world.as_(who)
        for method, template, body, expected_by_role in WRITES:
            expected = expected_by_role[ATTACKERS.index(who)]
            if expected is None:
                continue
            response = send(caller, method, resolve(template, world.ids), resolve(body, world.ids))
            refused += 1
            if outcome_of(response) != expected:
                mismatches.append(f"{who}: {method} {template} {body}: expected {expected}, got {outcome_of(response)}")
            else:
                assert_problem(response, *expected)

    assert mismatches == []
    assert refused > 60  # leader_a 11, officer_a 30, viewer_a 29
    assert_unchanged(before, snapshot(world.admin))


def test_a_township_leader_manages_the_territory_people_and_accounts_of_their_township(world):
    leader = world.as_("leader_a")

    def ok(method: str, template: str, body: Any = None, status: int = 200) -> dict[str, Any]:
        response = send(leader, method, resolve(template, world.ids), resolve(body, world.ids))
        assert response.status_code == status, (method, template, response.get_json())
        return response.get_json()

    village = ok("POST", "villages", NEW_VILLAGE, 201)
    cell = ok("POST", "grid-cells", NEW_CELL, 201)
    officer = ok("POST", "officers", NEW_OFFICER, 201)
    renamed = ok("PATCH", "villages/{vA}", {"name": "张家新村"})
    ok("PATCH", "grid-cells/{cA1}", {"name": "东片网格"})
    ok("PATCH", f"officers/{officer['id']}", {"title": "网格员"})
    assigned = ok(
        "POST", "grid-cells/{cA2}/assignments", {"officer_id": officer["id"], "role": "owner", "reason": "x"}, 201
    )
    ended = ok("POST", f"grid-assignments/{assigned['id']}/end", {"reason": "调岗"})
    corrected = ok(
        "POST", "grid-assignments/{aA2}/correct", {"reason": "录入错误", "valid_from": "2024-01-01T00:00:00+08:00"}, 201
    )
    retired = ok("POST", f"grid-cells/{cell['id']}/retire")
    viewer = ok("POST", "users", NEW_VIEWER, 201)  # their own township by default
    account = ok(
        "POST",
        "users",
        {**NEW_VIEWER, "username": "new-officer", "role": "grid_officer", "officer_id": officer["id"]},
        201,
    )
    ok("PATCH", f"users/{viewer['id']}", {"display_name": "王五"})
    ok("POST", f"users/{viewer['id']}/password", {"new_password": "a brand new secret"})
    deactivated = ok("POST", f"users/{viewer['id']}/deactivate")
    officer_gone = ok("POST", f"officers/{officer['id']}/deactivate", {"reason": "调离"})

    assert village["township_id"] == world["tA"]
    assert cell["township_id"] == world["tA"] and retired["retired_at"] is not None
    assert officer["township_id"] == world["tA"] and officer_gone["active"] is False
    assert renamed["name"] == "张家新村"
    assert ended["valid_to"] is not None and ended["current"] is False
    assert corrected["corrects_id"] == world["aA2"]
    assert (viewer["role"], viewer["township_id"]) == ("viewer", world["tA"])
    assert (account["role"], account["township_id"], account["officer_id"]) == (
        "grid_officer",
        world["tA"],
        officer["id"],
    )
    assert deactivated["active"] is False
    trail = world.admin.get(
        f"{API}/audit-events", query_string={"actor_user_id": world["u_leader_a"], "page_size": 100, "count": "true"}
    )
    assert trail.status_code == 200
    assert {e["township_id"] for e in trail.get_json()["items"]} == {world["tA"]}
    assert {e["actor"] for e in trail.get_json()["items"]} == {"leader-a"}
    assert trail.get_json()["total"] >= 16


def test_a_township_leader_registers_officers_in_their_own_township_by_default(app, client):
    # OfficerCreateSchema: "the officer's township; a township leader may leave it out (their own)"
    town = f.township(client)
    leader = f.login_as(app, Role.TOWNSHIP_LEADER, username="leader", township_id=town["id"])

    response = send(leader, "POST", "officers", {"name": "孙丽", "mobile": "13900139000"})

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["township_id"] == town["id"]


def test_the_county_admin_changes_townships_and_reads_the_audit_trail(client):
    body = {"code": "430199103", "name": "新镇", "boundary": rect(8000, 0, 9000, 1000)}

    created = send(client, "POST", "townships", body)
    renamed = send(client, "PATCH", f"townships/{created.get_json()['id']}", {"name": "新城镇"})
    retired = send(client, "POST", f"townships/{created.get_json()['id']}/retire")
    query = {"entity_type": "townships", "entity_id": created.get_json()["id"]}
    trail = client.get(f"{API}/audit-events", query_string=query)

    assert (created.status_code, renamed.status_code, retired.status_code) == (201, 200, 200)
    assert retired.get_json()["retired_at"] is not None
    assert trail.status_code == 200
    assert [e["action"] for e in trail.get_json()["items"]] == ["retire", "update", "create"]
    assert {e["actor"] for e in trail.get_json()["items"]} == {"root"}


# ---- 3. nothing of township B reaches a caller of township A ------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    label: str
    method: str
    path: str
    body: Any
    expected: tuple[Outcome, Outcome, Outcome]  # for leader_a, officer_a, viewer_a


def cross_township_attempts(i: Mapping[str, Any]) -> list[Attempt]:
    """Every verb against township B's objects (or naming them in a body). `i` holds B's real ids, or ids that do
    not exist: the answers must be the same."""
    nf, no, empty = NOT_FOUND, FORBIDDEN, OK
    reads = (nf, nf, nf)
    leader_only = (nf, no, no)
    a = Attempt
    return [
        a("read township B", "GET", f"townships/{i['tB']}", None, reads),
        a("rename township B", "PATCH", f"townships/{i['tB']}", {"name": "并入"}, (no, no, no)),
        a("retire township B", "POST", f"townships/{i['tB']}/retire", None, (no, no, no)),
        a("read village B", "GET", f"villages/{i['vB']}", None, reads),
        a("rename village B", "PATCH", f"villages/{i['vB']}", {"name": "并入村"}, leader_only),
        a("redraw village B", "PATCH", f"villages/{i['vB']}", {"boundary": rect(4000, 0, 6000, 2500)}, leader_only),
        a("retire village B", "POST", f"villages/{i['vB']}/retire", None, leader_only),
        a("coverage gaps of village B", "GET", f"villages/{i['vB']}/coverage-gaps", None, (nf, no, nf)),
        a(
            "create a village in township B",
            "POST",
            "villages",
            {"township_id": i["tB"], "code": "430199102202", "name": "新村", "boundary": rect(6000, 0, 8000, 2000)},
            (PARENT_NOT_FOUND, no, no),
        ),
        a("read cell B", "GET", f"grid-cells/{i['cB1']}", None, reads),
        a("rename cell B", "PATCH", f"grid-cells/{i['cB2']}", {"name": "并入网格"}, leader_only),
        a("retire cell B (no team)", "POST", f"grid-cells/{i['cB2']}/retire", None, leader_only),
        a("retire cell B (with team)", "POST", f"grid-cells/{i['cB1']}/retire", None, leader_only),
        a(
            "create a cell in village B",
            "POST",
            "grid-cells",
            {
                "village_id": i["vB"],
                "code": "430199102201003",
                "name": "新网格",
                "boundary": rect(4000, 1000, 5000, 2000),
            },
            (PARENT_NOT_FOUND, no, no),
        ),
        a("locate a point in cell B", "GET", locate_path(i["pB"]), None, (NO_CELL_HERE,) * 3),
        a("read the team of cell B", "GET", f"grid-cells/{i['cB1']}/team", None, reads),
        a(
            "assign to cell B",
            "POST",
            f"grid-cells/{i['cB2']}/assignments",
            {"officer_id": i["oB2"], "role": "owner", "reason": "接管"},
            leader_only,
        ),
        a(
            "assign officer B to a cell of A",
            "POST",
            f"grid-cells/{i['cA2']}/assignments",
            {"officer_id": i["oB2"], "role": "owner", "reason": "借调"},
            (OFFICER_NOT_FOUND, no, no),
        ),
        a("read assignment B", "GET", f"grid-assignments/{i['aB1']}", None, reads),
        a("end assignment B", "POST", f"grid-assignments/{i['aB1']}/end", {"reason": "调岗"}, leader_only),
        a(
            "correct assignment B",
            "POST",
            f"grid-assignments/{i['aB1']}/correct",
            {"reason": "录入错误", "valid_from": "2024-01-01T00:00:00+08:00"},
            leader_only,
        ),
        a(
            "correct an assignment of A to officer B",
            "POST",
            f"grid-assignments/{i['aA2']}/correct",
            {"reason": "录入错误", "officer_id": i["oB2"]},
            (OFFICER_NOT_FOUND, no, no),
        ),
        a("read officer B", "GET", f"officers/{i['oB1']}", None, reads),
        a("change officer B", "PATCH", f"officers/{i['oB1']}", {"mobile": "13700137000"}, leader_only),
        a("deactivate officer B", "POST", f"officers/{i['oB1']}/deactivate", {"reason": "调离"}, leader_only),
        a("read officer B's cells", "GET", f"officers/{i['oB1']}/cells", None, reads),
        a(
            "register an officer in township B",
            "POST",
            "officers",
            {"name": "钱七", "mobile": "13600136000", "township_id": i["tB"]},
            (TOWNSHIP_NOT_FOUND, no, no),
        ),
        a(
            "move an officer of A to township B",
            "PATCH",
            f"officers/{i['oA2']}",
            {"township_id": i["tB"]},
            (TOWNSHIP_NOT_FOUND, no, no),
        ),
        a("read leader B's account", "GET", f"users/{i['u_leader_b']}", None, (nf, no, no)),
        a("read viewer B's account", "GET", f"users/{i['u_viewer_b']}", None, (nf, no, no)),
        a("rename viewer B's account", "PATCH", f"users/{i['u_viewer_b']}", {"display_name": "x"}, leader_only),
        a("deactivate officer B's account", "POST", f"users/{i['u_officer_b']}/deactivate", None, leader_only),
        a(
            "reset viewer B's password",
            "POST",
            f"users/{i['u_viewer_b']}/password",
            {"new_password": "taken over by A"},
            leader_only,
        ),
        a(
            "create a viewer of township B",
            "POST",
            "users",
            {**NEW_VIEWER, "username": "spy-viewer", "township_id": i["tB"]},
            (TOWNSHIP_NOT_FOUND, no, no),
        ),
        a(
            "create an account for officer B",
            "POST",
            "users",
            {**NEW_VIEWER, "username": "spy-officer", "role": "grid_officer", "officer_id": i["oB2"]},
            (OFFICER_NOT_FOUND, no, no),
        ),
        a(
            "move a viewer of A to township B",
            "PATCH",
            f"users/{i['u_viewer_a']}",
            {"township_id": i["tB"]},
            (TOWNSHIP_NOT_FOUND, no, no),
        ),
        a("list villages of township B", "GET", f"villages?township_id={i['tB']}", None, (empty,) * 3),
        a("list cells of village B", "GET", f"grid-cells?village_id={i['vB']}", None, (empty,) * 3),
        a("list officers of township B", "GET", f"officers?township_id={i['tB']}", None, (empty,) * 3),
        a("list assignments of cell B", "GET", f"grid-assignments?cell_id={i['cB1']}", None, (empty,) * 3),
        a("list assignments of officer B", "GET", f"grid-assignments?officer_id={i['oB1']}", None, (empty,) * 3),
        a("list accounts of township B", "GET", f"users?township_id={i['tB']}", None, (empty, no, no)),
    ]


@pytest.mark.parametrize("who", ATTACKERS)
def test_township_b_answers_a_caller_of_township_a_as_if_it_did_not_exist(world, who):
    attacker = world.as_(who)
    leader_b = world.as_("leader_b")
    real = {**world.ids, "pB": at(4500, 500)}
    missing = {**world.ids, **dict.fromkeys(B_KEYS, MISSING), "pB": NOWHERE}
    before = snapshot(world.admin)

    mismatches = []
    for attempt, twin in zip(cross_township_attempts(real), cross_township_attempts(missing), strict=True):
        expected = attempt.expected[ATTACKERS.index(who)]
        against_b = send(attacker, attempt.method, attempt.path, attempt.body)
        against_nothing = send(attacker, twin.method, twin.path, twin.body)
        if outcome_of(against_b) != expected:
            mismatches.append(f"{attempt.label}: expected {expected}, got {outcome_of(against_b)}")
        if comparable(against_b) != comparable(against_nothing):
            mismatches.append(
                f"{attempt.label}: answers {comparable(against_b)}, but {comparable(against_nothing)} "
                "for an id that does not exist"
            )
        if expected == OK and against_b.get_json()["items"] != []:
            mismatches.append(f"{attempt.label}: lists rows of township B")

    assert mismatches == []
    assert_unchanged(before, snapshot(world.admin))
    # township B's people were not logged out, and their passwords still work
    assert leader_b.get(f"{API}/auth/me").status_code == 200
    assert f.token_for(world.app.test_client(), "viewer-b")["user"]["id"] == world["u_viewer_b"]


# ---- 4. a grid officer's cells, and tokens that stop working -----------------------------------------------------


def test_a_grid_officer_sees_a_cell_only_while_assigned_to_it(world):
    officer = world.as_("officer_a")
    leader = world.as_("leader_a")

    def seen(path: str, prefix: str, **query: Any) -> list[str]:
        response = officer.get(f"{API}/{path}", query_string=query)
        assert response.status_code == 200, response.get_json()
        return world.names(response.get_json()["items"], prefix)

    def my_cells() -> list[int]:
        return officer.get(f"{API}/auth/me").get_json()["scope"]["cell_ids"]

    team = officer.get(f"{API}/grid-cells/{world['cA1']}/team")
    assert team.status_code == 200
    assert team.get_json()["owner"]["officer"]["id"] == world["oA1"]
    assert [m["officer"]["id"] for m in team.get_json()["members"]] == [world["oA2"]]
    assert seen("grid-cells", "c") == ["cA1"]
    assert officer.get(f"{API}/{locate_path(at(500, 500))}").get_json()["id"] == world["cA1"]
    assert my_cells() == [world["cA1"]]

    own = leader.get(f"{API}/grid-assignments/{world['aA1']}")
    ended = leader.post(
        f"{API}/grid-assignments/{world['aA1']}/end", json={"reason": "调岗"}, headers={"If-Match": own.headers["ETag"]}
    )
    assert ended.status_code == 200, ended.get_json()

    assert seen("grid-cells", "c") == []
    assert seen("grid-cells", "c", has_owner="false") == []
    assert seen("villages", "v") == []
    assert seen("townships", "t") == []
    assert_problem(officer.get(f"{API}/{locate_path(at(500, 500))}"), 404, "no-cell-here")
    assert_problem(officer.get(f"{API}/grid-cells/{world['cA1']}"), 404, "not-found")
    assert_problem(officer.get(f"{API}/grid-cells/{world['cA1']}/team"), 404, "not-found")
    assert_problem(officer.get(f"{API}/villages/{world['vA']}"), 404, "not-found")
    assert_problem(officer.get(f"{API}/grid-assignments/{world['aA2']}"), 404, "not-found")
    assert my_cells() == []
    assert officer.get(f"{API}/officers/{world['oA1']}/cells").get_json()["items"] == []
    # their own record and their own (now ended) assignment stay theirs to read
    assert seen("officers", "o") == ["oA1"]
    assert seen("grid-assignments", "a") == ["aA1"]

    assigned = leader.post(
        f"{API}/grid-cells/{world['cA2']}/assignments",
        json={"officer_id": world["oA1"], "role": "member", "reason": "分工调整"},
        headers={"If-Match": "*"},
    )
    assert assigned.status_code == 201, assigned.get_json()

    assert seen("grid-cells", "c") == ["cA2"]
    assert officer.get(f"{API}/{locate_path(at(1500, 500))}").get_json()["id"] == world["cA2"]
    assert_problem(officer.get(f"{API}/{locate_path(at(500, 500))}"), 404, "no-cell-here")
    assert my_cells() == [world["cA2"]]


def _protected_requests(app: Flask):
    for rule, method in _routes(app):
        if (rule.endpoint, method) in PUBLIC_OPERATIONS:
            continue
        yield method, re.sub(r"<(?:[^:<>]+:)?[^<>]+>", "1", rule.rule)


def test_a_request_without_a_token_is_401_with_a_bearer_challenge(app, anonymous):
    wrong = []
    requests = list(_protected_requests(app))
    for method, path in requests:
        response = anonymous.open(path, method=method, json={}, headers={"If-Match": "*"})
        challenge = response.headers.get("WWW-Authenticate", "")
        if outcome_of(response) != (401, "unauthenticated") or not challenge.startswith("Bearer "):
            wrong.append(f"{method} {path}: {outcome_of(response)} WWW-Authenticate={challenge!r}")

    assert len(requests) >= 28
    assert wrong == []
    # the public operations need no token
    assert anonymous.get(f"{API}/openapi.json").status_code == 200
    assert_problem(
        anonymous.post(f"{API}/auth/token", json={"username": "nobody", "password": "x" * 12}), 401, "login-failed"
    )


@pytest.mark.parametrize(
    ("authorization", "error"),
    [
        ("Bearer gpa_not-a-token-we-issued", "invalid_token"),
        ("Bearer gpr_" + "x" * 43, "invalid_token"),  # a refresh-shaped token is no access token
        ("Basic cm9vdDpwYXNzd29yZA==", "invalid_request"),
        ("Bearer ", "invalid_request"),
    ],
)
def test_a_bad_token_is_401_invalid_token(app, anonymous, authorization, error):
    wrong = []
    for method, path in _protected_requests(app):
        response = anonymous.open(
            path, method=method, json={}, headers={"Authorization": authorization, "If-Match": "*"}
        )
        challenge = response.headers.get("WWW-Authenticate", "")
        if outcome_of(response) != (401, "invalid-token") or f'error="{error}"' not in challenge:
            wrong.append(f"{method} {path}: {outcome_of(response)} WWW-Authenticate={challenge!r}")

    assert wrong == []


def test_a_refresh_token_is_no_access_token(app):
    f.add_user(app, Role.VIEWER, username="viewer")
    tokens = f.token_for(app.test_client(), "viewer")

    assert_problem(
        f.authorise(app.test_client(), tokens["refresh_token"]).get(f"{API}/townships"), 401, "invalid-token"
    )
    assert f.authorise(app.test_client(), tokens["access_token"]).get(f"{API}/townships").status_code == 200


@pytest.mark.parametrize("how", ["account deactivated", "officer deactivated"])
def test_a_deactivated_users_token_stops_working_at_once(world, how):
    who, path = ("viewer_a", "users/{u_viewer_a}") if how == "account deactivated" else ("officer_a", "officers/{oA1}")
    username = username_of(who)
    tokens = f.token_for(world.app.test_client(), username)
    user = f.authorise(world.app.test_client(), tokens["access_token"])
    leader = world.as_("leader_a")
    assert user.get(f"{API}/townships").status_code == 200
    current = leader.get(f"{API}/{resolve(path, world.ids)}")

    deactivated = leader.post(
        f"{API}/{resolve(path, world.ids)}/deactivate", json={}, headers={"If-Match": current.headers["ETag"]}
    )

    assert deactivated.status_code == 200, deactivated.get_json()
    assert deactivated.get_json()["active"] is False
    response = user.get(f"{API}/townships")
    assert_problem(response, 401, "invalid-token")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert_problem(user.get(f"{API}/auth/me"), 401, "invalid-token")
    refreshed = world.app.test_client().post(f"{API}/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert_problem(refreshed, 401, "invalid-token")
    login = world.app.test_client().post(f"{API}/auth/token", json={"username": username, "password": PASSWORD})
    assert_problem(login, 401, "login-failed")
    account = world.admin.get(f"{API}/users/{world[f'u_{who}']}")
    assert account.get_json()["active"] is False


def test_a_changed_scope_applies_on_the_users_next_request(world):
    viewer = world.as_("viewer_a")
    assert world.names(viewer.get(f"{API}/townships").get_json()["items"], "t") == ["tA"]
    account = world.admin.get(f"{API}/users/{world['u_viewer_a']}")

    moved = world.admin.patch(
        f"{API}/users/{world['u_viewer_a']}",
        json={"township_id": world["tB"]},
        headers={"If-Match": account.headers["ETag"]},
    )

    assert moved.status_code == 200, moved.get_json()
    assert world.names(viewer.get(f"{API}/townships").get_json()["items"], "t") == ["tB"]
    assert_problem(viewer.get(f"{API}/grid-cells/{world['cA1']}"), 404, "not-found")
    assert viewer.get(f"{API}/grid-cells/{world['cB1']}").status_code == 200

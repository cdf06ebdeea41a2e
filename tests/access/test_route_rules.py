"""Every route declares who may call it, and the OpenAPI document says the same as the app enforces.

Every test runs on SpatiaLite and on PostGIS (see conftest.py).
"""

from __future__ import annotations

from api.auth import endpoint_rule
from models.roles import Role
from tests.access.outcomes import PUBLIC_OPERATIONS, routes
from tests.factories import API, openapi_path


def test_every_route_and_method_declares_who_may_call_it(app):
    undeclared = [
        f"{method} {rule.rule} ({rule.endpoint})"
        for rule, method in routes(app)
        if endpoint_rule(app, rule.endpoint, method) is None
    ]
    walked = {(rule.endpoint, method) for rule, method in routes(app)}

    assert undeclared == []
    assert len(walked) >= 30  # the walk saw the whole API, not an empty map
    assert {("grid-assignments.CellAssignments", "POST"), ("users.UserPassword", "POST")} <= walked


def test_only_logging_in_refreshing_and_the_api_docs_are_public(app):
    public = {
        (rule.endpoint, method) for rule, method in routes(app) if endpoint_rule(app, rule.endpoint, method).public
    }

    assert public == PUBLIC_OPERATIONS


def test_the_audit_trail_accounts_and_coverage_gaps_admit_only_their_roles(app):
    roles = {
        (rule.endpoint, method): endpoint_rule(app, rule.endpoint, method).roles
        for rule, method in routes(app)
        if rule.endpoint.startswith(("audit-events.", "users.")) or rule.endpoint.endswith("CoverageGaps")
    }

    assert roles.pop(("audit-events.AuditEvents", "GET")) == {Role.COUNTY_ADMIN}
    assert roles.pop(("villages.VillageCoverageGaps", "GET")) == {Role.COUNTY_ADMIN, Role.TOWNSHIP_LEADER, Role.VIEWER}
    assert len(roles) == 6  # users: list, create, get, patch, deactivate, password reset
    assert set(roles.values()) == {frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_LEADER})}


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
    for rule, method in routes(app):
        if not rule.rule.startswith(API) or (rule.endpoint, method) in PUBLIC_OPERATIONS:
            continue
        op = spec["paths"][openapi_path(rule.rule)][method.lower()]
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

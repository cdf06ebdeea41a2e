"""A hazard's life, each step signed: every legal and illegal transition, the five implementations, who may accept,
concurrent steps. Every test runs on SpatiaLite and on PostGIS (see conftest.py)."""

from __future__ import annotations

import pytest

from models.hazards.model import TRANSITIONS, Status
from models.roles import Role
from tests import factories as f
from tests.factories import API, assert_problem
from tests.hazards.helpers import PATHS, STEPS, hazard_in, in_days, ok_step, plan, report, step

STATES = [s.value for s in Status]
ACTIONS = list(STEPS)


def beside(status: str, severity: str) -> set[str]:
    """The steps beside the states that a new hazard brought to `status` allows (see models.hazards.rules)."""
    if status in ("closed", "voided"):
        return set()
    steps = {"refer", "record_interim_measures"} | ({"list"} if severity == "major" else set())
    if status in ("reported", "rectifying"):
        steps.add("plan")
    if status == "rectifying":
        steps.add("request_extension")  # its deadline is set
    return steps


@pytest.fixture
def second_admin(app, world):
    return f.login_as(app, Role.COUNTY_ADMIN, username="admin-2")


def test_a_general_hazard_from_report_to_close_out_every_step_signed_and_kept(world, second_admin):
    admin, leader = world.admin, world.as_("leader_a")
    hazard = report(world.as_("officer_a"), description="配电箱无防护罩")
    assert (hazard["status"], hazard["cell_id"], hazard["township_id"]) == ("reported", world["cA1"], world["tA"])
    assert hazard["number"] == f"430199101-{hazard['found_at'][:4]}-0001"
    assert hazard["next_actions"] == [
        "start_rectification", "rectify_on_the_spot", "void", "plan", "refer", "record_interim_measures"
    ]  # fmt: skip

    hazard = ok_step(leader, hazard, "start_rectification", deadline=in_days(10), responsible_person="李厂长")
    assert (hazard["status"], hazard["deadline"], hazard["responsible_person"]) == ("rectifying", in_days(10), "李厂长")
    hazard = ok_step(admin, hazard, "rectified", rectifier="王师傅", comment="加装防护罩")
    assert hazard["status"] == "pending_acceptance" and hazard["rectified_by_user_id"] == world["u_admin"]
    hazard = ok_step(leader, hazard, "accept", comment="合格")
    assert hazard["status"] == "closed" and hazard["closed_at"] and hazard["next_actions"] == []

    steps = f.ok(admin.get(f"{API}/hazards/{hazard['id']}/steps"))["items"]
    assert [(s["action"], s["from_status"], s["to_status"]) for s in steps] == [
        ("report", None, "reported"),
        ("start_rectification", "reported", "rectifying"),
        ("rectified", "rectifying", "pending_acceptance"),
        ("accept", "pending_acceptance", "closed"),
    ]
    assert [s["signer_user_id"] for s in steps] == [
        world["u_officer_a"],
        world["u_leader_a"],
        world["u_admin"],
        world["u_leader_a"],
    ]
    assert steps[1]["details"] == {"deadline": in_days(10), "responsible_person": "李厂长"}
    assert steps[2]["details"] == {"rectifier": "王师傅"} and steps[2]["comment"] == "加装防护罩"
    assert all(s["signer"] and s["signed_at"] for s in steps)


def test_numbers_run_per_township_and_year(world):
    admin = world.admin
    first, second = report(admin, 500, 500), report(admin, 1500, 500)
    other = report(admin, 4500, 500)
    year = first["found_at"][:4]
    assert [first["number"], second["number"]] == [f"430199101-{year}-0001", f"430199101-{year}-0002"]
    assert other["number"] == f"430199102-{year}-0001"
    last_year = report(admin, 500, 500, found_at=f"{int(year) - 1}-06-01T10:00:00+08:00")
    assert last_year["number"] == f"430199101-{int(year) - 1}-0001"


@pytest.mark.parametrize("severity", ["general", "major"])
@pytest.mark.parametrize("status", STATES)
def test_from_each_state_each_step_is_taken_exactly_when_the_table_allows_it(world, second_admin, status, severity):
    admin = world.admin
    allowed = {a.value: to.value for a, to in TRANSITIONS[Status(status)].items()}
    if severity == "major":
        allowed.pop("rectify_on_the_spot", None)
    for action in ACTIONS:
        hazard = hazard_in(admin, second_admin, status, severity=severity)
        signer = second_admin if action in ("accept", "reject") else admin
        response = step(signer, hazard, action)
        if action in allowed:
            assert f.ok(response)["status"] == allowed[action], (status, action)
            steps = f.ok(admin.get(f"{API}/hazards/{hazard['id']}/steps"))["items"]
            assert (steps[-1]["action"], steps[-1]["from_status"], steps[-1]["to_status"]) == (
                action,
                status,
                allowed[action],
            )
        else:
            body = assert_problem(response, 409, "transition-not-allowed")
            assert body["current_status"] == status
            assert set(body["allowed"]) == set(allowed) | beside(status, severity)
            assert f.ok(admin.get(f"{API}/hazards/{hazard['id']}"))["version"] == hazard["version"]  # unchanged


def test_a_major_hazard_starts_rectification_only_with_its_five_implementations(world, second_admin):
    admin = world.admin
    hazard = report(admin, severity="major")
    refused = assert_problem(step(admin, hazard, "start_rectification"), 422, "five-implementations-incomplete")
    assert refused["missing"] == [
        "responsible_person",
        "responsible_unit",
        "measures",
        "funds_yuan",
        "deadline",
        "contingency_plan",
    ]
    hazard = f.ok(plan(admin, hazard, funds_yuan=None, contingency_plan=None))
    assert hazard["five_implementations"]["missing"] == ["funds_yuan", "contingency_plan"]
    assert hazard["five_implementations"]["complete"] is False
    refused = assert_problem(step(admin, hazard, "start_rectification"), 422, "five-implementations-incomplete")
    assert refused["missing"] == ["funds_yuan", "contingency_plan"]
    assert f.ok(admin.get(f"{API}/hazards/{hazard['id']}"))["status"] == "reported"

    hazard = f.ok(plan(admin, hazard))
    assert hazard["five_implementations"]["complete"] is True
    assert hazard["five_implementations"]["funds_yuan"] == 85000.5
    assert ok_step(admin, hazard, "start_rectification")["status"] == "rectifying"
    assert assert_problem(
        step(admin, hazard | {"version": hazard["version"] + 1}, "rectify_on_the_spot"), 409, "transition-not-allowed"
    )


def test_a_major_hazard_is_never_rectified_on_the_spot(world):
    hazard = report(world.admin, severity="major")
    body = assert_problem(step(world.admin, hazard, "rectify_on_the_spot"), 409, "transition-not-allowed")
    assert "rectify_on_the_spot" not in body["allowed"] and "major" in body["detail"]


def test_the_acceptor_is_never_the_rectifier(world):
    admin, leader = world.admin, world.as_("leader_a")
    hazard = report(admin)
    hazard = ok_step(leader, hazard, "rectify_on_the_spot")
    for action in ("accept", "reject"):
        assert_problem(step(leader, hazard, action), 403, "acceptor-is-rectifier")
    assert f.ok(admin.get(f"{API}/hazards/{hazard['id']}"))["status"] == "pending_acceptance"
    assert ok_step(admin, hazard, "accept")["status"] == "closed"


def test_a_major_hazard_is_accepted_by_the_county_or_its_department_only(app, world, second_admin):
    admin = world.admin
    department = f.department(admin, sectors=("crowded_place",))
    staff = f.login_as(app, Role.DEPARTMENT_STAFF, username="yjj-wang", department_id=department["id"])
    hazard = hazard_in(admin, second_admin, "pending_acceptance", severity="major")
    for who in ("leader_a", "officer_a"):
        assert_problem(step(world.as_(who), hazard, "accept"), 403, "major-acceptor-required")
    assert f.ok(admin.get(f"{API}/hazards/{hazard['id']}"))["status"] == "pending_acceptance"
    assert ok_step(staff, hazard, "accept")["status"] == "closed"
    other = hazard_in(admin, second_admin, "pending_acceptance", severity="major")
    assert ok_step(second_admin, other, "accept")["status"] == "closed"


def test_a_refused_acceptance_sends_it_back_with_a_re_check_deadline(world, second_admin):
    admin = world.admin
    hazard = hazard_in(admin, second_admin, "pending_acceptance")
    hazard = ok_step(second_admin, hazard, "reject", comment="未校验", deadline=in_days(3))
    assert (hazard["status"], hazard["deadline"]) == ("rectifying", in_days(3))
    hazard = ok_step(admin, hazard, "rectified")
    assert ok_step(second_admin, hazard, "accept")["status"] == "closed"
    steps = f.ok(admin.get(f"{API}/hazards/{hazard['id']}/steps"))["items"]
    assert [s["action"] for s in steps] == [
        "report",
        "start_rectification",
        "rectified",
        "reject",
        "rectified",
        "accept",
    ]
    assert steps[3]["comment"] == "未校验" and steps[3]["details"] == {"deadline": in_days(3)}


def test_only_a_leader_voids_and_a_voided_hazard_stays_in_the_ledger(world):
    hazard = report(world.admin)
    assert_problem(step(world.as_("officer_a"), hazard, "void"), 403, "forbidden")
    voided = ok_step(world.as_("leader_a"), hazard, "void", comment="重复录入")
    assert voided["status"] == "voided" and voided["voided_at"]
    listed = f.ok(world.admin.get(f"{API}/hazards?status=voided"))["items"]
    assert [h["id"] for h in listed] == [hazard["id"]]


def test_a_deadline_in_the_past_is_refused(world):
    hazard = report(world.admin)
    assert_problem(step(world.admin, hazard, "start_rectification", deadline=in_days(-1)), 422, "deadline-in-past")


def test_a_step_from_a_stale_version_is_refused_and_changes_nothing(world):
    admin = world.admin
    hazard = report(admin)
    assert_problem(
        step(admin, hazard, "start_rectification", version=hazard["version"] + 5), 412, "precondition-failed"
    )
    assert f.ok(admin.get(f"{API}/hazards/{hazard['id']}"))["status"] == "reported"
    without = admin.post(f"{API}/hazards/{hazard['id']}/void", json={"comment": "x"})
    assert_problem(without, 428, "precondition-required")


@pytest.mark.parametrize("first, second", [("accept", "reject"), ("accept", "accept"), ("void", "accept")])
def test_two_steps_of_one_hazard_at_once_exactly_one_wins(app, world, second_admin, first, second):
    admin = world.admin
    third = f.login_as(app, Role.COUNTY_ADMIN, username="admin-3")
    hazard = hazard_in(admin, second_admin, "pending_acceptance")
    signers = {"accept": second_admin, "reject": third, "void": world.as_("leader_a")}
    if first == second:
        signers = {"accept": second_admin}
        clients = [second_admin, third]
    else:
        clients = [signers[first], signers[second]]
    responses = f.run_together(lambda: step(clients[0], hazard, first), lambda: step(clients[1], hazard, second))
    codes = sorted(r.status_code for r in responses)
    assert codes[0] == 200 and codes[1] in (409, 412), [r.get_json() for r in responses]
    steps = f.ok(admin.get(f"{API}/hazards/{hazard['id']}/steps"))["items"]
    assert len(steps) == len(PATHS["pending_acceptance"]) + 2  # the report, the path, one of the two


def test_steps_leave_the_audit_trail_and_a_retried_step_with_its_key_is_taken_once(world):
    admin = world.admin
    hazard = report(admin)
    path, body = STEPS["void"]
    headers = {"If-Match": f'"{hazard["version"]}"', "Idempotency-Key": "void-once-1"}
    first = admin.post(f"{API}/hazards/{hazard['id']}/{path}", json=body, headers=headers)
    again = admin.post(f"{API}/hazards/{hazard['id']}/{path}", json=body, headers=headers)
    assert f.ok(first)["status"] == f.ok(again)["status"] == "voided"
    assert again.headers.get("Idempotent-Replayed") == "true"
    steps = f.ok(admin.get(f"{API}/hazards/{hazard['id']}/steps"))["items"]
    assert [s["action"] for s in steps] == ["report", "void"]
    events = f.ok(admin.get(f"{API}/audit-events?entity_type=hazards&entity_id={hazard['id']}"))["items"]
    assert {e["action"] for e in events} >= {"create", "void"}


def test_every_action_has_a_route_and_the_table_has_no_dead_end_but_the_end():
    assert set(STEPS) == {a.value for moves in TRANSITIONS.values() for a in moves}
    reachable = {Status.REPORTED}
    for _ in range(4):
        reachable |= {to for s in list(reachable) for to in TRANSITIONS[s].values()}
    assert reachable == set(Status)
    assert [s for s in Status if not TRANSITIONS[s]] == [Status.CLOSED, Status.VOIDED]

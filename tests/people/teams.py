"""Officers, teams and the assignment history through the API, as the people tests use them.

Times are whole seconds in the past (assignments are never in the future), given alternately with +08:00 and Z;
every answer is compared as an aware datetime, whatever offset the API writes it with.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from flask.testing import FlaskClient

from tests import factories as f
from tests.factories import API, moment, ok

if TYPE_CHECKING:
    from tests.conftest import World

CST = timezone(timedelta(hours=8))  # China Standard Time, the offset leaders write
SECOND = timedelta(seconds=1)
MICROSECOND = timedelta(microseconds=1)
FRESH = object()  # "read the team's ETag just before the write"


def cst(t: datetime) -> str:
    return t.astimezone(CST).isoformat()


def zulu(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def now() -> datetime:
    return datetime.now(UTC)


def new_officer(who: FlaskClient, n: int, township_id: int | None = None, **extra: Any) -> dict[str, Any]:
    """Officer n (网格员n, mobile 139 followed by n in eight digits), registered by `who`."""
    return f.officer(who, township_id, **{"name": f"网格员{n}", "mobile": f"139{n:08d}", **extra})


def officer_of_a(world: World, n: int, **extra: Any) -> dict[str, Any]:
    """Officer n of the world's township A, registered by its leader."""
    return new_officer(world.as_("leader_a"), n, world["tA"], **extra)


def team(who: FlaskClient, cell_id: int, at: str | None = None) -> dict[str, Any]:
    query = {"at": at} if at is not None else {}
    return ok(who.get(f"{API}/grid-cells/{cell_id}/team", query_string=query))


def team_etag(who: FlaskClient, cell_id: int) -> str:
    response = who.get(f"{API}/grid-cells/{cell_id}/team")
    body = ok(response)
    assert response.headers["ETag"] == f'"{body["etag"]}"'
    return response.headers["ETag"]


def owner_at(who: FlaskClient, cell_id: int, at: str | None = None) -> int | None:
    """The officer id of the cell's owner at `at` (now when None), or None."""
    owner = team(who, cell_id, at)["owner"]
    return None if owner is None else owner["officer"]["id"]


def member_ids_at(who: FlaskClient, cell_id: int, at: str | None = None) -> list[int]:
    return [m["officer"]["id"] for m in team(who, cell_id, at)["members"]]


def assign(
    who: FlaskClient,
    cell_id: int,
    officer_id: int,
    role: str = "owner",
    *,
    valid_from: str | None = None,
    if_match: Any = FRESH,
    reason: str = "村两委会议决定",
) -> Any:
    if if_match is FRESH:
        if_match = team_etag(who, cell_id)
    body: dict[str, Any] = {"officer_id": officer_id, "role": role, "reason": reason}
    if valid_from is not None:
        body["valid_from"] = valid_from
    headers = {"If-Match": if_match} if if_match is not None else {}
    return who.post(f"{API}/grid-cells/{cell_id}/assignments", json=body, headers=headers)


def assigned(who: FlaskClient, cell_id: int, officer_id: int, role: str = "owner", **kwargs: Any) -> dict[str, Any]:
    return ok(assign(who, cell_id, officer_id, role, **kwargs), 201)


def assignment(who: FlaskClient, assignment_id: int) -> dict[str, Any]:
    response = who.get(f"{API}/grid-assignments/{assignment_id}")
    body = ok(response)
    assert response.headers["ETag"] == f'"{body["version"]}"'
    return body


def version_tag(who: FlaskClient, assignment_id: int) -> str:
    return f'"{assignment(who, assignment_id)["version"]}"'


def end(
    who: FlaskClient, assignment_id: int, *, valid_to: str | None = None, if_match: Any = FRESH, reason: str = "调岗"
) -> Any:
    if if_match is FRESH:
        if_match = version_tag(who, assignment_id)
    body: dict[str, Any] = {"reason": reason}
    if valid_to is not None:
        body["valid_to"] = valid_to
    headers = {"If-Match": if_match} if if_match is not None else {}
    return who.post(f"{API}/grid-assignments/{assignment_id}/end", json=body, headers=headers)


def correct(
    who: FlaskClient, assignment_id: int, *, if_match: Any = FRESH, reason: str = "录入错误", **changes: Any
) -> Any:
    if if_match is FRESH:
        if_match = version_tag(who, assignment_id)
    headers = {"If-Match": if_match} if if_match is not None else {}
    return who.post(
        f"{API}/grid-assignments/{assignment_id}/correct", json={"reason": reason, **changes}, headers=headers
    )


def history(who: FlaskClient, **filters: Any) -> dict[str, Any]:
    """GET /grid-assignments with these filters (booleans as true/false), one big page."""
    query = {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in filters.items()}
    return ok(who.get(f"{API}/grid-assignments", query_string={"page_size": 500, "count": "true", **query}))


def all_rows_total(who: FlaskClient) -> int:
    return history(who, include_superseded=True)["total"]


def audit_total(admin: FlaskClient) -> int:
    query = {"entity_type": "grid_assignments", "count": "true"}
    return ok(admin.get(f"{API}/audit-events", query_string=query))["total"]


def cell_ids_of(who: FlaskClient, officer_id: int, at: str | None = None) -> list[int]:
    query = {"at": at} if at is not None else {}
    body = ok(who.get(f"{API}/officers/{officer_id}/cells", query_string=query))
    assert body["officer_id"] == officer_id
    return [item["cell_id"] for item in body["items"]]


def cell_codes(who: FlaskClient, **query: Any) -> list[str]:
    body = ok(who.get(f"{API}/grid-cells", query_string=query))
    return [item["code"] for item in body["items"]]


def assert_one_owner_and_no_overlap(who: FlaskClient, cell_id: int) -> list[dict[str, Any]]:
    """The cell has exactly one current owner, its owner intervals follow each other without overlapping, and
    the team at each interval's start names that interval's officer. Answers the owner intervals by start."""
    current = history(who, cell_id=cell_id, role="owner", current=True)
    assert current["total"] == 1, current["items"]
    owners = sorted(history(who, cell_id=cell_id, role="owner")["items"], key=lambda a: moment(a["valid_from"]))
    assert owners[-1]["valid_to"] is None and owners[-1]["id"] == current["items"][0]["id"]
    for earlier, later in pairwise(owners):
        assert earlier["valid_to"] is not None, (earlier, later)
        assert moment(earlier["valid_to"]) <= moment(later["valid_from"]), (earlier, later)
    for interval in owners:
        assert owner_at(who, cell_id, interval["valid_from"]) == interval["officer"]["id"]
    assert owner_at(who, cell_id) == owners[-1]["officer"]["id"]
    return owners

"""Townships, villages and grid cells through the API, as the territory tests send them; and the checks of the
geometry rules: a place for new units of a kind, and a refusal that changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask.testing import FlaskClient

from tests import factories as f
from tests.factories import API, PROBLEM_JSON, assert_unchanged, snapshot

KINDS = ("townships", "villages", "grid-cells")
PARENT_FIELD = {"villages": "township_id", "grid-cells": "village_id"}
CURRENT = object()  # "the unit's current ETag, read just before the write"
ONE_OF_EACH = {"townships": "tA", "villages": "vA1", "grid-cells": "cA1"}  # the `one_of_each` fixture's units
FREE_TOWNSHIP_CODE = "430199102"  # a township code the `one_of_each` fixture does not use


def get(client: FlaskClient, path: str, **kwargs: Any) -> Any:
    return client.get(f"{API}/{path}", **kwargs)


def item(client: FlaskClient, path: str, unit_id: int) -> dict[str, Any]:
    response = get(client, f"{path}/{unit_id}")
    assert response.status_code == 200
    return response.get_json()


def post(client: FlaskClient, path: str, body: Any) -> Any:
    return client.post(f"{API}/{path}", json=body)


def _headers(client: FlaskClient, path: str, unit_id: int, if_match: Any) -> dict[str, str]:
    if if_match is CURRENT:
        return f.if_match(client, f"{path}/{unit_id}")
    return {"If-Match": if_match} if if_match is not None else {}


def patch(client: FlaskClient, path: str, unit_id: int, body: Any, if_match: Any = CURRENT) -> Any:
    """PATCH a unit with this If-Match (None: without one)."""
    return client.patch(f"{API}/{path}/{unit_id}", json=body, headers=_headers(client, path, unit_id, if_match))


def retire(client: FlaskClient, path: str, unit_id: int, if_match: Any = CURRENT) -> Any:
    """Retire a unit with this If-Match (None: without one)."""
    return client.post(f"{API}/{path}/{unit_id}/retire", headers=_headers(client, path, unit_id, if_match))


def etag_of(unit: dict[str, Any]) -> str:
    return f'"{unit["version"]}"'


def codes(response: Any) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [i["code"] for i in response.get_json()["items"]]


def locate(client: FlaskClient, lon: float, lat: float, **extra: Any) -> Any:
    return get(client, "grid-cells/locate", query_string={"lon": lon, "lat": lat, **extra})


# ---- the geometry rules ---------------------------------------------------------------------------------------------


def assert_refused(response: Any, code: str, pointer: str) -> dict[str, Any]:
    """422 problem+json naming `code` as the only rule broken, with an error entry pointing at `pointer`."""
    body = response.get_json()
    assert response.status_code == 422, body
    assert response.mimetype == PROBLEM_JSON
    assert body["status"] == 422
    assert body["code"] == code, body
    assert body["type"] == f"urn:grid-patrol:problem:{code}"
    assert body["detail"]
    assert {"code": code, "pointer": pointer} in [
        {"code": e["code"], "pointer": e.get("pointer")} for e in body["errors"]
    ], body
    return body


def refused_without_change(
    client: FlaskClient, send: Callable[[], Any], code: str, pointer: str = "/boundary"
) -> dict[str, Any]:
    """Send a request (a callable), expect it refused for `code`, and every unit unchanged."""
    before = snapshot(client, units_only=True)
    body = assert_refused(send(), code, pointer)
    assert_unchanged(before, snapshot(client, units_only=True))
    return body


@dataclass
class Place:
    """Where new units of a kind go: their parent (if any), free codes, and the parent's box in metres."""

    kind: str
    parent: dict[str, int] = field(default_factory=dict)
    codes: tuple[str, ...] = ()
    parent_box: tuple[float, float, float, float] = (0, 0, 4000, 4000)

    def body(self, code: str, boundary: dict[str, Any], name: str = "测试单元") -> dict[str, Any]:
        return {**self.parent, "code": code, "name": name, "boundary": boundary}


def sticking_out(place: Place, by_m: float) -> dict[str, Any]:
    """A box in the parent's north-east quarter whose east side lies `by_m` beyond the parent's."""
    x0, y0, x1, y1 = place.parent_box
    return f.rect((x0 + x1) / 2, (y0 + y1) / 2, x1 + by_m, y1)


def well_inside(place: Place) -> dict[str, Any]:
    """A box in the parent's north-east quarter, 100 m clear of the parent's east side."""
    return sticking_out(place, -100)


def place_for(client: FlaskClient, kind: str) -> Place:
    """An empty parent for units of `kind`: nothing for townships, a township for villages, a village for cells."""
    if kind == "townships":
        return Place(kind, codes=("430199101", "430199102", "430199103"))
    township = f.township(client)
    if kind == "villages":
        codes = tuple(f.TOWNSHIP_CODE + suffix for suffix in ("201", "202", "203"))
        return Place(kind, {"township_id": township["id"]}, codes, (0, 0, 4000, 4000))
    village = f.village(client, township["id"])
    codes = tuple(f.VILLAGE_CODE + suffix for suffix in ("001", "002", "003"))
    return Place(kind, {"village_id": village["id"]}, codes, (0, 0, 2000, 2000))

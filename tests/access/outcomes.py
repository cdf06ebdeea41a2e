"""What a caller gets back: requests sent so that only access decides the answer, and the outcomes expected.

The callers are the `world` fixture's (tests/conftest.py): admin, leader_a, officer_a, viewer_a, viewer_county.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from tests.factories import API, PASSWORD

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
NEW_VIEWER = {"username": "new-viewer", "display_name": "新人", "password": PASSWORD, "role": "viewer"}

PUBLIC_OPERATIONS = {
    ("api-docs.openapi_json", "GET"),
    ("api-docs.openapi_swagger_ui", "GET"),
    ("auth.Token", "POST"),
    ("auth.Refresh", "POST"),
    ("swagger-ui.asset", "GET"),
}


def routes(app: Flask) -> Iterator[tuple[Rule, str]]:
    """Every rule of the app with each of its methods but HEAD and OPTIONS."""
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def send(client: FlaskClient, method: str, path: str, body: Any = None) -> Any:
    """One request to the API; every write names any version (If-Match: *), so only access decides the answer."""
    headers = {"If-Match": "*"} if method in ("POST", "PATCH") else {}
    return client.open(f"{API}/{path}", method=method, json=body, headers=headers)


def outcome_of(response: Any) -> Outcome:
    if response.status_code >= 400:
        return response.status_code, response.get_json(force=True).get("code")
    return response.status_code, None


def locate_path(point: list[float]) -> str:
    return f"grid-cells/locate?lon={point[0]}&lat={point[1]}"

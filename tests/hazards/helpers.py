"""What the hazard tests share: reporting a hazard, taking its steps, bringing one to any state."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient

from models.base import county_today
from tests import factories as f
from tests.factories import API

# action -> (path, body)
STEPS: dict[str, tuple[str, dict[str, Any]]] = {
    "start_rectification": ("rectification", {"deadline": None, "responsible_person": "李厂长"}),
    "rectify_on_the_spot": ("on-the-spot-rectification", {"rectifier": "王师傅", "comment": "当场更换灭火器"}),
    "rectified": ("rectified", {"rectifier": "王师傅", "comment": "已整改"}),
    "accept": ("acceptance", {"comment": "验收合格"}),
    "reject": ("rejection", {"comment": "未整改到位", "deadline": None}),
    "void": ("void", {"comment": "重复录入"}),
}
FULL_PLAN = {
    "responsible_person": "张厂长",
    "responsible_unit": "某某化工有限公司",
    "measures": "停用2号储罐，更换阀门",
    "funds_yuan": 85000.5,
    "deadline": None,
    "contingency_plan": "泄漏应急预案",
}


def in_days(days: int) -> str:
    return (county_today() + timedelta(days=days)).isoformat()


def report(client: FlaskClient, x_m: float = 500, y_m: float = 500, *, expect: int = 201, **fields: Any) -> dict:
    """Report a hazard at (x_m, y_m) metres from the origin, away from any enterprise, or at `enterprise_id`."""
    lon, lat = f.at(x_m, y_m)
    body = {
        "description": "消防通道堵塞",
        "kind": "unsafe_condition",
        "severity": "general",
        "source": "patrol",
        "position": {"lon": lon, "lat": lat},
        "place_description": "青山桥下",
        "sector": "crowded_place",
    }
    if "enterprise_id" in fields:  # at the enterprise: its location and sector unless told otherwise
        body = {k: v for k, v in body.items() if k not in ("position", "place_description", "sector")}
    body |= fields
    response = client.post(f"{API}/hazards", json={k: v for k, v in body.items() if v is not None})
    assert response.status_code == expect, response.get_json()
    return response.get_json()


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"  # the first bytes of a JPEG: enough for the type check


def photo(client: FlaskClient, hazard: dict[str, Any], content: bytes = JPEG + b"a photo") -> Any:
    """Upload a photo of the hazard; answer the response."""
    return client.post(
        f"{API}/hazards/{hazard['id']}/photos",
        data={"file": (io.BytesIO(content), "photo.jpg")},
        content_type="multipart/form-data",
    )


def step(client: FlaskClient, hazard: dict[str, Any], action: str, *, version: Any = None, **body: Any) -> Any:
    """Take a step, naming the version given (default: the hazard's as given); answer the response. A
    rectification on the spot rests on a photo, uploaded here unless `photo_ids` are given."""
    path, defaults = STEPS[action]
    if action == "rectify_on_the_spot" and "photo_ids" not in body:
        uploaded = photo(client, hazard, JPEG + f"hazard {hazard['id']}".encode())
        body["photo_ids"] = [uploaded.get_json()["id"]] if uploaded.status_code in (200, 201) else []
    payload = {k: (in_days(7) if k == "deadline" and v is None else v) for k, v in (defaults | body).items()}
    etag = f'"{hazard["version"] if version is None else version}"'
    return client.post(f"{API}/hazards/{hazard['id']}/{path}", json=payload, headers={"If-Match": etag})


def plan(client: FlaskClient, hazard: dict[str, Any], **parts: Any) -> Any:
    body = {k: (in_days(30) if k == "deadline" and v is None else v) for k, v in (FULL_PLAN | parts).items()}
    return client.put(
        f"{API}/hazards/{hazard['id']}/five-implementations", json=body, headers={"If-Match": f'"{hazard["version"]}"'}
    )


def ok_step(client: FlaskClient, hazard: dict[str, Any], action: str, **body: Any) -> dict[str, Any]:
    return f.ok(step(client, hazard, action, **body))


# How to reach each state from a new hazard: (signer, action) in turn; "other" is a second signer, so that the
# acceptor is never the rectifier.
PATHS: dict[str, list[str]] = {
    "reported": [],
    "rectifying": ["start_rectification"],
    "pending_acceptance": ["start_rectification", "rectified"],
    "closed": ["start_rectification", "rectified", "accept"],
    "voided": ["void"],
}


def hazard_in(
    client: FlaskClient, acceptor: FlaskClient, status: str, *, severity: str = "general", **fields: Any
) -> dict[str, Any]:
    """A new hazard brought to `status` by `client` (the acceptance signed by `acceptor`)."""
    hazard = report(client, severity=severity, **fields)
    if severity == "major":  # its five implementations first, as the county asks
        hazard = f.ok(plan(client, hazard))
    for action in PATHS[status]:
        hazard = ok_step(acceptor if action == "accept" else client, hazard, action)
    assert hazard["status"] == status
    return hazard

"""No password or token is ever seen: not in any response, not in the audit trail, not in any log record, and
user answers hide the hash and the failure counter.

A flow of every account operation, good and bad, runs through recording clients; then every response, the audit
trail and the log are searched for every password and token it used. Every test runs on SpatiaLite and on PostGIS
(see conftest.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from models.accounts.tokens import token_digest
from models.audit import AuditEvent
from models.roles import Role
from tests import factories as f
from tests.accounts.users import (
    assert_no_hidden_keys,
    audit_events,
    deactivate,
    in_db,
    new_user,
    patch_user,
    reset_password,
    user,
)
from tests.factories import API, PASSWORD, run_together

TOKEN_PATHS = {f"{API}/auth/token", f"{API}/auth/refresh", f"{API}/auth/password"}

# ---- secrets ------------------------------------------------------------------------------------------------------


class RecordingClient(FlaskClient):
    """A test client that keeps every response it gets."""

    def __init__(self, *args: Any, log: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.log = log

    def open(self, *args: Any, **kwargs: Any) -> Any:
        response = super().open(*args, **kwargs)
        self.log.append(response)
        return response


P_LEADER = "Leader-pass-4417k"
P_LEADER_RESET = "Leader-reset-8830m"
P_GAO = "Officer-pass-9921x"
P_GAO_RESET = "Officer-reset-7710q"
P_VICKY = "Viewer-pass-3308y"
P_VICKY_NEW = "Viewer-renewed-5521z"
P_TOO_SHORT = "Sh0rt!x9"
P_TWINS = ("Racer-pass-a-6602r", "Racer-pass-b-6603s")
WRONG = [f"Wr0ng-secret-{i:02d}-zq" for i in range(14)]
FLOW_PASSWORDS = {PASSWORD, P_LEADER, P_LEADER_RESET, P_GAO, P_GAO_RESET, P_VICKY, P_VICKY_NEW, P_TOO_SHORT}
FLOW_PASSWORDS |= {*P_TWINS, *WRONG}


def secret_flow(app: Flask, client: FlaskClient, log: list) -> set[str]:
    """Every account operation, good and bad, through recording clients; answers the tokens issued."""

    def recording(access_token: str | None = None) -> RecordingClient:
        c = RecordingClient(app, app.response_class, log=log)
        return f.authorise(c, access_token) if access_token else c

    root_token = client.environ_base["HTTP_AUTHORIZATION"].split(" ", 1)[1]
    anon = recording()

    def sign_in(username: str, password: str, expect: int = 200) -> dict[str, Any]:
        response = anon.post(f"{API}/auth/token", json={"username": username, "password": password})
        assert response.status_code == expect, response.get_json()
        return response.get_json()

    admin = recording(sign_in("root", PASSWORD)["access_token"])
    t1 = f.township(admin)
    zhang = f.officer(admin, t1["id"])
    lena = user(admin, "lena", Role.TOWNSHIP_LEADER, township_id=t1["id"], password=P_LEADER)
    gao = user(admin, "gao", Role.GRID_OFFICER, officer_id=zhang["id"], password=P_GAO)
    vicky = user(admin, "vicky", Role.VIEWER, password=P_VICKY)
    assert new_user(admin, "shorty", Role.VIEWER, password=P_TOO_SHORT).status_code == 422
    assert new_user(admin, "vicky-2", Role.VIEWER, password="vicky-2 password").status_code == 422

    # wrong logins, unknown users, refresh, retry and reuse
    sign_in("vicky", WRONG[0], expect=401)
    sign_in("nobody-at-all", WRONG[1], expect=401)
    first = sign_in("VICKY", P_VICKY)
    second = anon.post(f"{API}/auth/refresh", json={"refresh_token": first["refresh_token"]}).get_json()
    retried = anon.post(f"{API}/auth/refresh", json={"refresh_token": first["refresh_token"]}).get_json()
    assert anon.post(f"{API}/auth/refresh", json={"refresh_token": retried["refresh_token"]}).status_code == 200
    assert anon.post(f"{API}/auth/refresh", json={"refresh_token": second["refresh_token"]}).status_code == 401
    assert anon.post(f"{API}/auth/refresh", json={"refresh_token": first["refresh_token"]}).status_code == 401
    assert anon.post(f"{API}/auth/refresh", json={"refresh_token": first["access_token"]}).status_code == 401
    assert recording(second["access_token"]).get(f"{API}/auth/me").status_code == 401

    # own password change: wrong, weak, then right
    as_vicky = recording(sign_in("vicky", P_VICKY)["access_token"])
    as_vicky.get(f"{API}/auth/me")
    for current, new in ((WRONG[2], P_VICKY_NEW), (P_VICKY, P_TOO_SHORT), (P_VICKY, "vicky" + WRONG[3])):
        response = as_vicky.post(f"{API}/auth/password", json={"current_password": current, "new_password": new})
        assert response.status_code == 422, response.get_json()
    changed = as_vicky.post(
        f"{API}/auth/password", json={"current_password": P_VICKY, "new_password": P_VICKY_NEW}
    ).get_json()
    as_vicky = recording(changed["access_token"])
    assert as_vicky.get(f"{API}/auth/me").status_code == 200

    # an admin resets a password; a locked account is reset
    assert reset_password(admin, gao["id"], P_GAO_RESET).status_code == 200
    as_gao = recording(sign_in("gao", P_GAO_RESET)["access_token"])
    assert as_gao.get(f"{API}/grid-cells").status_code == 200
    for wrong in WRONG[4:]:
        anon.post(f"{API}/auth/token", json={"username": "lena", "password": wrong})
    sign_in("lena", P_LEADER, expect=429)
    assert reset_password(admin, lena["id"], P_LEADER_RESET).status_code == 200
    as_lena = recording(sign_in("lena", P_LEADER_RESET)["access_token"])
    assert as_lena.get(f"{API}/users").status_code == 200

    # logout, role change, deactivation
    assert as_gao.post(f"{API}/auth/logout").status_code == 204
    assert as_gao.get(f"{API}/auth/me").status_code == 401
    assert patch_user(admin, vicky["id"], {"role": "township_leader", "township_id": t1["id"]}).status_code == 200
    assert deactivate(admin, vicky["id"]).status_code == 200
    assert as_vicky.get(f"{API}/auth/me").status_code == 401
    sign_in("vicky", P_VICKY_NEW, expect=401)

    # two creates of one username at the same moment (an IntegrityError on PostgreSQL)
    racers = [recording(admin.environ_base["HTTP_AUTHORIZATION"].split(" ", 1)[1]) for _ in P_TWINS]
    answers = run_together(
        *[lambda c=c, p=p: new_user(c, "twin", Role.VIEWER, password=p) for c, p in zip(racers, P_TWINS, strict=True)]
    )
    assert sorted(r.status_code for r in answers) == [201, 409], [r.get_json() for r in answers]

    # everything an admin reads about accounts
    admin.get(f"{API}/users", query_string={"include_inactive": "true"})
    for uid in (lena["id"], gao["id"], vicky["id"]):
        admin.get(f"{API}/users/{uid}")
    admin.get(f"{API}/audit-events", query_string={"page_size": 500})
    as_lena.get(f"{API}/auth/me")

    issued = {root_token}
    for response in log:
        if response.request.path in TOKEN_PATHS and response.status_code == 200:
            body = response.get_json()
            issued |= {body["access_token"], body["refresh_token"]}
    return issued


def secret_strings(tokens_issued: set[str]) -> dict[str, str]:
    """What must never be seen, each with a name that does not give it away."""
    secrets: dict[str, str] = {"$argon2": "an Argon2 hash"}
    for n, value in enumerate(sorted(FLOW_PASSWORDS)):
        secrets[value] = f"password #{n}"
        secrets[hashlib.sha256(value.encode()).hexdigest()] = f"SHA-256 of password #{n}"
    for n, value in enumerate(sorted(tokens_issued)):
        secrets[value] = f"token #{n} ({value[:4]})"
        secrets[token_digest(value)] = f"SHA-256 of token #{n} ({value[:4]})"
    return secrets


def leaks(text: str, secrets: dict[str, str]) -> list[str]:
    return [name for value, name in secrets.items() if value in text]


def response_text(response) -> str:
    """A response as text, without the token fields of an answer that issues tokens."""
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    if response.request.path in TOKEN_PATHS and response.status_code == 200:
        body = {k: v for k, v in response.get_json().items() if k not in ("access_token", "refresh_token")}
        return headers + "\n" + json.dumps(body, ensure_ascii=False)
    return headers + "\n" + response.get_data(as_text=True)


def test_no_password_or_token_appears_in_any_response_and_user_answers_hide_hash_and_counter(app, client):
    log: list = []
    issued = secret_flow(app, client, log)
    secrets = secret_strings(issued)
    assert len(issued) > 15 and len(log) > 50

    found = {f"{r.request.method} {r.request.path} {r.status_code}": leaks(response_text(r), secrets) for r in log}
    assert {k: v for k, v in found.items() if v} == {}
    for response in log:
        if response.is_json and response.get_data():
            assert_no_hidden_keys(response.get_json())


def test_no_password_or_token_appears_in_the_audit_trail(app, client, session):
    log: list = []
    secrets = secret_strings(secret_flow(app, client, log))

    events = audit_events(client)
    assert {e["entity_type"] for e in events} >= {"users", "townships", "officers"}
    assert {e["action"] for e in events if e["entity_type"] == "users"} >= {
        "create",
        "update",
        "change-password",
        "deactivate",
    }
    assert leaks(json.dumps(events, ensure_ascii=False), secrets) == []
    raw = [dict(row._mapping) for row in in_db(session, select(AuditEvent.__table__))]
    assert len(raw) == len(events)
    assert leaks(json.dumps(raw, ensure_ascii=False, default=str), secrets) == []
    for event in raw:
        for values in (event["before"] or {}, event["after"] or {}):
            assert not {"password", "password_hash", "failed_logins", "locked_until"} & set(values), event


def _log_leaks(records: list[logging.LogRecord], secrets: dict[str, str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    formatter = logging.Formatter()
    for record in records:
        parts = [str(record.msg), repr(record.args), record.exc_text or ""]
        with contextlib.suppress(TypeError, ValueError):
            parts.append(record.getMessage())
        if record.exc_info:
            parts.append(formatter.formatException(record.exc_info))
        names = leaks("\n".join(parts), secrets)
        if names:
            key = f"{record.name}: {str(record.msg)[:60]}"
            found.setdefault(key, []).extend(n for n in names if n not in found.get(key, []))
    return found


def _loggers_at(caplog, level: int) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("werkzeug", "flask", "api", "models", "geo"):
        caplog.set_level(logging.DEBUG, logger=name)
    for name in ("sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "sqlalchemy.orm"):
        caplog.set_level(level, logger=name)


def test_no_password_or_token_appears_in_any_log_record_at_debug_level(app, client, caplog):
    _loggers_at(caplog, logging.DEBUG)
    log: list = []

    secrets = secret_strings(secret_flow(app, client, log))

    assert any(r.name.startswith("sqlalchemy.engine") for r in caplog.records)  # the SQL log was on
    assert _log_leaks(caplog.records, secrets) == {}
    assert leaks(caplog.text, secrets) == []


def test_no_password_or_token_appears_in_the_sql_statement_log(app, client, caplog):
    """The SQL log at INFO (statements, parameters hidden), as `echo=True` would give."""
    _loggers_at(caplog, logging.INFO)
    log: list = []

    secrets = secret_strings(secret_flow(app, client, log))

    assert any(r.name.startswith("sqlalchemy.engine") for r in caplog.records)
    assert _log_leaks(caplog.records, secrets) == {}
    assert leaks(caplog.text, secrets) == []

"""The command line: a forgotten password is set anew (`users set-password`), and the demo county is reloaded from
scratch (`demo load --reset`), on both backends, through Flask's CLI runner."""

from __future__ import annotations

from typing import Any

from flask import Flask

from models.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from models.roles import Role
from tests import factories as f
from tests.factories import API, PASSWORD, assert_problem

NEW_PASSWORD = "Set from the console 31"
ENV = "GRIDPATROL_ADMIN_PASSWORD"
SMALL = ["--seed", "7", "--townships", "2", "--villages", "4", "--cells", "8", "--enterprises", "50", "--patrols", "20"]


def cli(app: Flask, *args: str, env: dict[str, str] | None = None, input: str | None = None) -> Any:  # noqa: A002
    return app.test_cli_runner().invoke(args=list(args), env=env, input=input)


def log_in(app: Flask, username: str, password: str) -> Any:
    return app.test_client().post(f"{API}/auth/token", json={"username": username, "password": password})


def lock(app: Flask, username: str) -> None:
    for attempt in range(app.config["LOGIN_MAX_FAILURES"]):
        assert_problem(log_in(app, username, f"Wr0ng-guess-{attempt:02d}"), 401, "login-failed")
    assert_problem(log_in(app, username, PASSWORD), 429, "login-locked")


# ---- users set-password -------------------------------------------------------------------------------------------


def test_set_password_from_the_environment_ends_the_sessions_and_lifts_the_lock(app, client):
    f.add_user(app, Role.COUNTY_ADMIN, username="ada")
    old = log_in(app, "ada", PASSWORD).get_json()
    lock(app, "ada")

    result = cli(app, "users", "set-password", "ADA", env={ENV: NEW_PASSWORD})

    assert result.exit_code == 0, result.output
    assert "ada" in result.output
    assert log_in(app, "ada", NEW_PASSWORD).status_code == 200  # the lock is lifted
    assert_problem(log_in(app, "ada", PASSWORD), 401, "login-failed")
    gone = app.test_client().get(f"{API}/auth/me", headers={"Authorization": f"Bearer {old['access_token']}"})
    assert_problem(gone, 401, "invalid-token")
    ada_id = old["user"]["id"]
    events = client.get(f"{API}/audit-events", query_string={"entity_type": "users", "entity_id": ada_id}).get_json()
    reset = next(e for e in events["items"] if e["action"] == "change-password")
    assert reset["actor"] == "system" and reset["actor_user_id"] is None


def test_set_password_prompts_twice_when_not_in_the_environment(app):
    f.add_user(app, Role.VIEWER, username="vera")

    result = cli(app, "users", "set-password", "vera", input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")

    assert result.exit_code == 0, result.output
    assert log_in(app, "vera", NEW_PASSWORD).status_code == 200


def test_set_password_keeps_the_policy_and_changes_nothing_when_refused(app):
    f.add_user(app, Role.COUNTY_ADMIN, username="ada")

    for bad, why in (("short-pw", "at least 10 characters"), ("my-name-is-ada-42", "may not contain the username")):
        result = cli(app, "users", "set-password", "ada", env={ENV: bad})

        assert result.exit_code == 1
        assert why in result.output
    assert log_in(app, "ada", PASSWORD).status_code == 200


def test_set_password_of_an_unknown_or_deactivated_user_is_refused(app, client):
    vera_id = f.add_user(app, Role.VIEWER, username="vera")
    etag = client.get(f"{API}/users/{vera_id}").headers["ETag"]
    assert client.post(f"{API}/users/{vera_id}/deactivate", headers={"If-Match": etag}).status_code == 200

    unknown = cli(app, "users", "set-password", "nobody", env={ENV: NEW_PASSWORD})
    inactive = cli(app, "users", "set-password", "vera", env={ENV: NEW_PASSWORD})

    assert unknown.exit_code != 0 and "nobody" in unknown.output
    assert inactive.exit_code != 0 and "deactivated" in inactive.output
    assert_problem(log_in(app, "vera", NEW_PASSWORD), 401, "login-failed")


# ---- demo load --reset --------------------------------------------------------------------------------------------


def townships(app: Flask) -> list[dict[str, Any]]:
    admin = f.authorise(app.test_client(), log_in(app, "admin", DEMO_PASSWORD).get_json()["access_token"])
    return admin.get(f"{API}/townships", query_string={"page_size": 100}).get_json()["items"]


def test_demo_load_reset_empties_the_database_and_loads_the_demo_again(app, client):
    assert cli(app, "demo", "load", *SMALL).exit_code == 0
    admin = f.authorise(app.test_client(), log_in(app, "admin", DEMO_PASSWORD).get_json()["access_token"])
    extra = f.township(admin, code="430199301", box=(200_000, 0, 204_000, 4000))
    assert cli(app, "demo", "load", *SMALL, "--if-empty").output.startswith("demo county not loaded")

    result = cli(app, "demo", "load", *SMALL, "--reset", "--yes")

    assert result.exit_code == 0, result.output
    codes = {t["code"] for t in townships(app)}
    assert len(codes) == 2 and extra["code"] not in codes
    assert min(t["id"] for t in townships(app)) == 1  # a new database, not a second county beside the first
    for username, _name, _role in DEMO_ACCOUNTS:
        assert log_in(app, username, DEMO_PASSWORD).status_code == 200, username
    assert_problem(log_in(app, "root", PASSWORD), 401, "login-failed")  # everything else went with it


def test_demo_load_reset_asks_first_and_a_no_changes_nothing(app, client):
    town = f.township(client)

    result = cli(app, "demo", "load", *SMALL, "--reset", input="n\n")

    assert result.exit_code != 0
    assert "Aborted" in result.output
    assert client.get(f"{API}/townships/{town['id']}").status_code == 200


def test_demo_load_reset_and_if_empty_contradict_each_other(app, client):
    town = f.township(client)

    result = cli(app, "demo", "load", "--reset", "--if-empty", "--yes")

    assert result.exit_code == 2
    assert "--if-empty" in result.output
    assert client.get(f"{API}/townships/{town['id']}").status_code == 200

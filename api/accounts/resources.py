"""Logging in and out, tokens, the caller's own account, and user accounts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView

from api.accounts import schemas as s
from api.auth import current_caller
from api.conditional import expected_version
from api.db import db
from api.extensions import Blueprint
from api.pagination import list_answer, split_paging
from api.responses import etag, json_response, record_response
from models.accounts import User
from models.accounts.queries import SECRET_USER_COLUMNS, user_listing, user_row
from models.accounts.service import create_user, deactivate_user, reset_password, update_user
from models.accounts.tokens import TokenPair, TokenPolicy, change_own_password, login, logout, refresh
from models.roles import ALL_ROLES, MANAGERS, Role
from models.scope import officer_current_cells

auth = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Logging in: access and refresh tokens")
users = Blueprint("users", __name__, url_prefix="/api/v1/users", description="User accounts and their roles")

USERS_NOTE = "A township leader sees the accounts of their township and manages its grid officer and viewer accounts."
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def token_policy() -> TokenPolicy:
    config = current_app.config
    return TokenPolicy(
        access_ttl=timedelta(minutes=config["ACCESS_TOKEN_MINUTES"]),
        refresh_ttl=timedelta(days=config["REFRESH_TOKEN_DAYS"]),
        max_failed_logins=config["LOGIN_MAX_FAILURES"],
        lockout=timedelta(minutes=config["LOGIN_LOCK_MINUTES"]),
    )


def user_dict(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in SECRET_USER_COLUMNS} | {"active": row["deactivated_at"] is None}


def token_response(pair: TokenPair, status: int = 200) -> Any:
    policy = token_policy()
    body = {
        "token_type": "Bearer",
        "access_token": pair.access_token,
        "expires_in": int(policy.access_ttl.total_seconds()),
        "access_expires_at": pair.access_expires_at,
        "refresh_token": pair.refresh_token,
        "refresh_expires_in": int(policy.refresh_ttl.total_seconds()),
        "refresh_expires_at": pair.refresh_expires_at,
        "user": user_dict({c.key: getattr(pair.user, c.key) for c in User.__table__.columns}),
    }
    return json_response(body, status, headers=_NO_STORE)


def user_response(user_id: int, status: int = 200) -> Any:
    row = user_row(db.session(), caller=current_caller(), user_id=user_id)
    return record_response(user_dict(row), status, endpoint="users.UserItem", user_id=user_id)


# ---- auth -------------------------------------------------------------------------------------------------------


@auth.route("/token")
class Token(MethodView):
    @auth.access(public=True)
    @auth.arguments(s.LoginSchema)
    @auth.response(200, s.TokenSchema)
    @auth.problem(401, "wrong username or password (the same answer for an unknown username)")
    @auth.problem(429, "too many wrong passwords in a row: the account is locked for a while (Retry-After)")
    def post(self, data: dict[str, Any]) -> Any:
        """Log in

        Answers a short-lived access token (send it as `Authorization: Bearer ...`) and a refresh token for
        POST /auth/refresh. Ten wrong passwords in a row lock the account for 15 minutes.
        """
        pair = login(db.session(), client=request.user_agent.string, policy=token_policy(), **data)
        return token_response(pair)


@auth.route("/refresh")
class Refresh(MethodView):
    @auth.access(public=True)
    @auth.arguments(s.RefreshSchema)
    @auth.response(200, s.TokenSchema)
    @auth.problem(401, "the refresh token is expired, revoked, unknown or was used already")
    def post(self, data: dict[str, Any]) -> Any:
        """Renew the tokens

        Answers a new access token and a new refresh token; the refresh token sent is used up. Sending a used
        refresh token again ends its session (it may have been copied), except within a minute of its first use,
        when it is taken as a retry of a request whose answer was lost and answers a fresh pair.
        """
        return token_response(refresh(db.session(), refresh_token=data["refresh_token"], policy=token_policy()))


@auth.route("/logout")
class Logout(MethodView):
    @auth.access(*ALL_ROLES)
    @auth.response(204)
    def post(self) -> Any:
        """Log out

        Ends the session of the access token sent: its access and refresh tokens stop working at once.
        """
        logout(db.session(), caller=current_caller())
        return Response(status=204)  # no body, so no content type


@auth.route("/me")
class Me(MethodView):
    @auth.access(*ALL_ROLES)
    @auth.response(200, s.MeSchema)
    def get(self) -> Any:
        """Who am I

        The caller's account and scope: what they see and may change.
        """
        caller = current_caller()
        session = db.session()
        row = user_row(session, caller=caller, user_id=caller.user_id)
        cells = None
        if caller.role is Role.GRID_OFFICER:
            cells = sorted(session.scalars(officer_current_cells(caller.officer_id)).all())
        scope = {
            "county_wide": caller.county_wide,
            "township_id": caller.township_id,
            "officer_id": caller.officer_id,
            "department_id": caller.department_id,
            "cell_ids": cells,
            "read_only": caller.role is Role.VIEWER,
        }
        return json_response(user_dict(row) | {"scope": scope}, headers={"ETag": etag(row["version"])})


@auth.route("/password")
class Password(MethodView):
    @auth.access(*ALL_ROLES)
    @auth.arguments(s.PasswordChangeSchema)
    @auth.response(200, s.TokenSchema)
    @auth.problem(422, "the current password is wrong, or the new one breaks the policy")
    @auth.problem(429, "too many wrong passwords in a row")
    def post(self, data: dict[str, Any]) -> Any:
        """Change my password

        Every session of the caller ends (on every device); this one continues with the new token pair answered.
        """
        pair = change_own_password(
            db.session(),
            caller=current_caller(),
            client=request.user_agent.string,
            policy=token_policy(),
            **data,
        )
        return token_response(pair)


# ---- users ------------------------------------------------------------------------------------------------------


@users.route("")
class Users(MethodView):
    @users.access(*MANAGERS, note=USERS_NOTE)
    @users.query(s.UserListArgs)
    @users.response(200, s.UserPageSchema)
    def get(self, **arguments: Any) -> Any:
        """List user accounts

        Active accounts by username, paged by cursor; `include_inactive=true` adds deactivated ones.
        """
        paging, filters = split_paging(arguments)
        return json_response(list_answer(user_listing(caller=current_caller(), **filters), paging, user_dict))

    @users.access(*MANAGERS, note=USERS_NOTE)
    @users.idempotent()
    @users.arguments(s.UserCreateSchema)
    @users.response(201, s.UserSchema)
    @users.problem(409, "the username is taken, or the officer has an account already (`existing_id`)")
    def post(self, data: dict[str, Any]) -> Any:
        """Create a user account

        Usernames are case-insensitive and unique forever (they name people in the audit trail). A grid officer
        account is linked to its officer and takes the officer's township; a township leader needs a township;
        a viewer without one reads the whole county.
        """
        user = create_user(db.session(), caller=current_caller(), **data)
        return user_response(user.id, 201)


@users.route("/<int:user_id>")
class UserItem(MethodView):
    @users.access(*MANAGERS, note=USERS_NOTE)
    @users.response(200, s.UserSchema)
    @users.problem(404, "no such user in your scope")
    def get(self, user_id: int) -> Any:
        """Get a user account"""
        return user_response(user_id)

    @users.access(*MANAGERS, note=USERS_NOTE)
    @users.arguments(s.UserPatchSchema)
    @users.response(200, s.UserSchema)
    @users.if_match()
    @users.problem(404, "no such user in your scope")
    @users.problem(409, "deactivated, your own role, the last administrator, or the officer has an account")
    def patch(self, data: dict[str, Any], user_id: int) -> Any:
        """Change a user's name, role, township or officer

        The change takes effect on the user's next request (their tokens are checked against the account each
        time).
        """
        update_user(db.session(), caller=current_caller(), user_id=user_id, expected_version=expected_version(), **data)
        return user_response(user_id)


@users.route("/<int:user_id>/deactivate")
class UserDeactivation(MethodView):
    @users.access(*MANAGERS, note=USERS_NOTE)
    @users.idempotent()
    @users.response(200, s.UserSchema)
    @users.if_match()
    @users.problem(404, "no such user in your scope")
    @users.problem(409, "your own account, or the last county administrator")
    def post(self, user_id: int) -> Any:
        """Deactivate a user account

        It can no longer log in and its tokens stop working at once. Nothing is deleted; deactivating twice is
        harmless.
        """
        deactivate_user(db.session(), caller=current_caller(), user_id=user_id, expected_version=expected_version())
        return user_response(user_id)


@users.route("/<int:user_id>/password")
class UserPassword(MethodView):
    @users.access(*MANAGERS, note=USERS_NOTE)
    @users.idempotent()
    @users.arguments(s.PasswordResetSchema)
    @users.response(200, s.UserSchema)
    @users.if_match()
    @users.problem(404, "no such user in your scope")
    @users.problem(409, "the account is deactivated, or it is your own (`own-password`: use POST /auth/password)")
    def post(self, data: dict[str, Any], user_id: int) -> Any:
        """Reset a user's password

        For a user who forgot theirs: their sessions end and a lock from wrong passwords is lifted. Tell them the
        new password in person; they should change it (POST /auth/password). Not for your own password: that
        takes the current one, at POST /auth/password.
        """
        reset_password(
            db.session(),
            caller=current_caller(),
            user_id=user_id,
            expected_version=expected_version(),
            new_password=data["new_password"],
        )
        return user_response(user_id)


BLUEPRINTS = (auth, users)

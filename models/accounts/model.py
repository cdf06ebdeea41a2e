"""User accounts, login sessions and their tokens.

Tokens are random strings handed to the client once; the database keeps only their SHA-256, so a copy of the
database lets nobody in. A login session (one device) holds a short-lived access token and a refresh token that is
rotated on every use.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from models.audit import Audited
from models.base import Base, UTCDateTime
from models.roles import Role

_ROLES_SQL = ", ".join(f"'{role.value}'" for role in Role)


class User(Audited, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"role IN ({_ROLES_SQL})", name="role"),
        # One active account per officer.
        Index(
            "uq_users_officer_id_active",
            "officer_id",
            unique=True,
            sqlite_where=text("deactivated_at IS NULL AND officer_id IS NOT NULL"),
            postgresql_where=text("deactivated_at IS NULL AND officer_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)  # stored lower-case
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    township_id: Mapped[int | None] = mapped_column(ForeignKey("townships.id"), nullable=True, index=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"), nullable=True)
    # Department staff only: the department whose enterprises they see.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Login throttling; changed by plain UPDATEs so that neither the version nor the audit trail moves.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    # The password hash never leaves this table; a password change shows as password_changed_at.
    __audit_exclude__ = ("version", "password_hash", "failed_logins", "locked_until")
    __audit_actions__ = (("deactivated_at", "deactivate"), ("password_changed_at", "change-password"))

    @property
    def active(self) -> bool:
        return self.deactivated_at is None


class AuthSession(Base):
    """One login on one device; revoking it (logout, password change, deactivation) ends all its tokens."""

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    client: Mapped[str | None] = mapped_column(String(200), nullable=True)  # the User-Agent at login
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(String(50), nullable=True)


class AuthToken(Base):
    """An access or refresh token of a session, by its SHA-256. Expired rows are purged; nothing else is."""

    __tablename__ = "auth_tokens"
    __table_args__ = (CheckConstraint("kind IN ('access', 'refresh')", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("auth_sessions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The refresh token this pair was issued for (None at login); a refresh token is used once.
    parent_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

"""Passwords: Argon2id hashes (RFC 9106) and the policy a new password must meet."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from models.errors import RuleViolation

PASSWORD_MIN, PASSWORD_MAX = 10, 128

_hasher = PasswordHasher()  # argon2id, RFC 9106 "second recommended" parameters: 64 MiB, 3 passes


_dummy: str | None = None


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Set the hasher (the app factory does, from its settings; tests use a cheap one)."""
    global _hasher, _dummy
    _hasher, _dummy = hasher, None
    _dummy_hash()  # made now, so that the first unknown username takes no longer than the others


def _dummy_hash() -> str:
    """A hash to verify against when the username is unknown, so that both answers take the same time (one
    Argon2 check each): made once per hasher."""
    global _dummy
    if _dummy is None:
        _dummy = _hasher.hash("no such user: constant-time answer")
    return _dummy


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def needs_rehash(password_hash: str) -> bool:
    """The hasher's parameters were raised since this hash was made."""
    return _hasher.check_needs_rehash(password_hash)


def dummy_hash() -> str:
    """A hash to verify against when a username is unknown (see `_dummy_hash`)."""
    return _dummy_hash()


def check_password_policy(password: str, username: str, *, pointer: str = "/password") -> None:
    """At least 10 characters, at most 128, and not the username in disguise."""
    if len(password) < PASSWORD_MIN:
        raise RuleViolation(
            f"a password has at least {PASSWORD_MIN} characters", code="password-too-short", pointer=pointer
        )
    if len(password) > PASSWORD_MAX:
        raise RuleViolation(
            f"a password has at most {PASSWORD_MAX} characters", code="password-too-long", pointer=pointer
        )
    if username.lower() in password.lower():
        raise RuleViolation(
            "a password may not contain the username", code="password-contains-username", pointer=pointer
        )


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False

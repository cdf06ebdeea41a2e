"""User accounts, login sessions and their tokens."""

from models.accounts import guards as _guards  # noqa: F401  (an officer who leaves or moves takes their account)
from models.accounts.model import AuthSession, AuthToken, User

__all__ = ["AuthSession", "AuthToken", "User"]

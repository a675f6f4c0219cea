"""Users, password hashes and JWTs."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import bcrypt
import jwt

from doclane.exceptions import DoclaneError

__all__ = [
    "AuthError",
    "demo_password",
    "User",
    "UserDirectory",
    "issue_token",
    "load_jwt_secret",
    "read_token",
]

Role = Literal["user", "admin"]
_ALGORITHM = "HS256"
# Checked against when the user does not exist, so a wrong name costs the same
# time as a wrong password and names cannot be probed by timing.
_DUMMY_HASH = bcrypt.hashpw(b"doclane-dummy-password", bcrypt.gensalt(rounds=10))


class AuthError(DoclaneError):
    category = "auth"


@dataclass(frozen=True)
class User:
    name: str
    role: Role


class UserDirectory:
    """Users from ``DOCLANE_USERS`` (``name:password:role,...``), hashed at start."""

    def __init__(self, users: dict[str, tuple[bytes, Role]]) -> None:
        self._users = users

    @classmethod
    def parse(cls, spec: str, rounds: int = 10) -> UserDirectory:
        users: dict[str, tuple[bytes, Role]] = {}
        for n, entry in enumerate(filter(None, (e.strip() for e in spec.split(","))), start=1):
            parts = entry.split(":")
            if len(parts) == 2:
                parts.append("user")
            if len(parts) != 3 or not parts[0] or not parts[1]:
                raise ValueError(
                    f"DOCLANE_USERS entry {n} must look like name:password:role"
                )
            name, password, role = parts
            if role not in ("user", "admin"):
                raise ValueError(f"DOCLANE_USERS entry {n}: role must be 'user' or 'admin'")
            hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds))
            users[name] = (hashed, role)  # type: ignore[assignment]
        if not users:
            raise ValueError("DOCLANE_USERS names no user")
        return cls(users)

    def authenticate(self, name: str, password: str) -> User | None:
        entry = self._users.get(name)
        hashed = entry[0] if entry else _DUMMY_HASH
        ok = bcrypt.checkpw(password.encode(), hashed)
        if entry is None or not ok:
            return None
        return User(name=name, role=entry[1])

    def get(self, name: str) -> User | None:
        entry = self._users.get(name)
        return User(name=name, role=entry[1]) if entry else None


def _secret_file(data_dir: Path, name: str) -> str:
    path = data_dir / name
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    path.touch(mode=0o600)
    path.write_text(value)
    return value


def load_jwt_secret(configured: str | None, data_dir: Path) -> str:
    """The configured key, or one generated once and kept in the data directory."""
    return configured or _secret_file(data_dir, ".jwt_secret")


def demo_password(data_dir: Path) -> str:
    """The demo user's password, generated on first start and kept in the data directory."""
    return _secret_file(data_dir, ".demo_password")


def issue_token(user: User, secret: str, ttl_s: int) -> str:
    now = datetime.now(UTC)
    claims = {"sub": user.name, "role": user.role, "iat": now, "exp": now + timedelta(seconds=ttl_s)}
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def read_token(token: str, secret: str, users: UserDirectory) -> User:
    """The user a token names; :class:`AuthError` when it is invalid or expired."""
    try:
        claims = jwt.decode(token, secret, algorithms=[_ALGORITHM], options={"require": ["exp", "sub"]})
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("Your token has expired; log in again at POST /auth/login.") from exc
    except jwt.InvalidTokenError as exc:
        raise AuthError("The token is not valid; log in at POST /auth/login for a new one.") from exc
    user = users.get(str(claims["sub"]))
    if user is None:
        raise AuthError("The token names a user that no longer exists; log in again.")
    return user

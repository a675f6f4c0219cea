"""Users, password hashes and JWTs."""

from __future__ import annotations

import base64
import hashlib
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
    "MAX_PASSWORD_CHARS",
    "Session",
    "demo_password",
    "User",
    "UserDirectory",
    "issue_token",
    "load_jwt_secret",
    "read_token",
    "REVOKED",
]

Role = Literal["user", "admin"]
_ALGORITHM = "HS256"
#: Longest password accepted at login (and in DOCLANE_USERS); any length up to it works.
MAX_PASSWORD_CHARS = 1024


def _digest(password: str) -> bytes:
    """What bcrypt hashes: a SHA-256 pre-digest, so passwords past bcrypt's 72 bytes work.

    bcrypt refuses (5.x) or silently truncates (older) longer inputs; the digest is
    44 bytes for any password. Lone surrogates (valid JSON, invalid UTF-8) are kept
    as bytes rather than failing to encode.
    """
    raw = password.encode("utf-8", "surrogatepass")
    return base64.b64encode(hashlib.sha256(raw).digest())


# Checked against when the user does not exist, so a wrong name costs the same
# time as a wrong password and names cannot be probed by timing.
_DUMMY_HASH = bcrypt.hashpw(_digest("doclane-dummy-password"), bcrypt.gensalt(rounds=10))


class AuthError(DoclaneError):
    category = "auth"


@dataclass(frozen=True)
class User:
    name: str
    role: Role


@dataclass(frozen=True)
class Session:
    """A valid token's user and the token version it was issued under."""

    user: User
    version: int
    #: The token itself: open streams check it again, to notice a logout or expiry.
    token: str


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
            if len(password) > MAX_PASSWORD_CHARS:
                raise ValueError(f"DOCLANE_USERS entry {n}: the password is longer than "
                                 f"{MAX_PASSWORD_CHARS} characters")
            # Hashed here, at start, with the same pre-digest as every login.
            hashed = bcrypt.hashpw(_digest(password), bcrypt.gensalt(rounds=rounds))
            users[name] = (hashed, role)  # type: ignore[assignment]
        if not users:
            raise ValueError("DOCLANE_USERS names no user")
        return cls(users)

    def authenticate(self, name: str, password: str) -> User | None:
        entry = self._users.get(name)
        hashed = entry[0] if entry else _DUMMY_HASH
        ok = bcrypt.checkpw(_digest(password), hashed)
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


def issue_token(user: User, secret: str, ttl_s: int, version: int = 0) -> str:
    """A JWT for ``user``, valid ``ttl_s`` seconds unless the user's token version moves past ``version``."""
    now = datetime.now(UTC)
    claims = {"sub": user.name, "role": user.role, "iat": now, "exp": now + timedelta(seconds=ttl_s),
              "ver": version}
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def read_token(token: str, secret: str, users: UserDirectory) -> Session:
    """The session a token names; :class:`AuthError` when it is invalid or expired.

    Whether it was revoked since is the caller's check (:func:`revoked_reason`): the
    token version lives in the store.
    """
    if len(token) > 4096:
        raise AuthError("The token is not valid; log in at POST /auth/login for a new one.")
    try:
        claims = jwt.decode(token, secret, algorithms=[_ALGORITHM], options={"require": ["exp", "sub"]})
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("Your token has expired; log in again at POST /auth/login.") from exc
    except jwt.InvalidTokenError as exc:
        raise AuthError("The token is not valid; log in at POST /auth/login for a new one.") from exc
    user = users.get(str(claims["sub"]))
    if user is None:
        raise AuthError("The token names a user that no longer exists; log in again.")
    version = claims.get("ver", 0)
    return Session(user=user, version=version if isinstance(version, int) else -1, token=token)


#: Why a revoked token is refused.
REVOKED = "This token was revoked (logged out); log in again at POST /auth/login."

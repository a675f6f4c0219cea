"""``POST /auth/login``."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from doclane.api.deps import GatewayDep
from doclane.api.security import issue_token
from doclane.schemas.api import LoginRequest, Token

__all__ = ["router"]

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login")
async def login(body: LoginRequest, gateway: GatewayDep) -> Token:
    """Exchange a username and password for a bearer token (JWT, 1 hour)."""
    user = gateway.users.authenticate(body.username, body.password)
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Wrong username or password.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    ttl = gateway.services.settings.jwt_ttl_s
    return Token(access_token=issue_token(user, gateway.jwt_secret, ttl), expires_in=ttl, role=user.role)

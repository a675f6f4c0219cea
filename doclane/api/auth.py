"""``POST /auth/login`` and ``POST /auth/logout``."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status

from doclane.api.deps import CurrentUser, GatewayDep
from doclane.api.security import issue_token
from doclane.schemas.api import LoginRequest, Token

__all__ = ["router"]

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login", responses={
    401: {"description": "Wrong username or password"},
    413: {"description": "Request body over 1 MB"},
    429: {"description": "Too many failed logins; wait Retry-After seconds"},
})
async def login(body: LoginRequest, request: Request, gateway: GatewayDep) -> Token:
    """Exchange a username and password for a bearer token (JWT, 1 hour)."""
    client = request.client.host if request.client else "?"
    throttle = gateway.login_throttle
    # Checked before the password, so a throttled guesser learns nothing from trying.
    wait_s = throttle.wait_s(body.username, client)
    if wait_s:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"Too many failed logins; try again in {wait_s} s.",
            headers={"Retry-After": str(wait_s)},
        )
    user = gateway.users.authenticate(body.username, body.password)
    if user is None:
        throttle.failed(body.username, client)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Wrong username or password.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    throttle.succeeded(body.username, client)
    ttl = gateway.services.settings.jwt_ttl_s
    version = await gateway.services.store.token_version(user.name)
    return Token(access_token=issue_token(user, gateway.jwt_secret, ttl, version), expires_in=ttl,
                 role=user.role)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(user: CurrentUser, gateway: GatewayDep) -> None:
    """Revoke every token of yours, on every gateway: open streams are closed within seconds."""
    await gateway.services.store.revoke_tokens(user.name)

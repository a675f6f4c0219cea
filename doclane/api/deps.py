"""Dependencies shared by the routes; they chain gateway → user → admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from doclane.api.gateway import Gateway
from doclane.api.security import REVOKED, AuthError, Session, User, read_token
from doclane.infra.runtime import Services
from doclane.infra.store.base import Store
from doclane.schemas.documents import DocumentRecord

__all__ = [
    "AdminUser", "CurrentUser", "GatewayDep", "OwnedDocument", "ServicesDep", "StoreDep",
    "authenticate_token",
]

_bearer = HTTPBearer(auto_error=False)


def get_gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


def get_services(gateway: GatewayDep) -> Services:
    return gateway.services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_store(services: ServicesDep) -> Store:
    return services.store


StoreDep = Annotated[Store, Depends(get_store)]

_UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


async def get_current_user(
    gateway: GatewayDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Send 'Authorization: Bearer <token>'; get a token from POST /auth/login.",
            headers=_UNAUTHORIZED,
        )
    try:
        session = await authenticate_token(gateway, credentials.credentials)
    except AuthError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, exc.reason, headers=_UNAUTHORIZED) from exc
    return session.user


async def authenticate_token(gateway: Gateway, token: str) -> Session:
    """The token's session if it is valid and not revoked (the version is read from the store)."""
    session = read_token(token, gateway.jwt_secret, gateway.users)
    if session.version != await gateway.services.store.token_version(session.user.name):
        raise AuthError(REVOKED)
    return session


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_admin(user: CurrentUser) -> User:
    if user.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "This needs the admin role.")
    return user


AdminUser = Annotated[User, Depends(require_admin)]


async def get_owned_document(document_id: str, user: CurrentUser, store: StoreDep) -> DocumentRecord:
    doc = await store.get_document(document_id)
    # Another user's document answers exactly like a missing one.
    if doc is None or doc.owner != user.name:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No document with id '{document_id}'.")
    return doc


OwnedDocument = Annotated[DocumentRecord, Depends(get_owned_document)]

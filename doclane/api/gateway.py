"""What the gateway holds for the life of the process."""

from __future__ import annotations

from dataclasses import dataclass, field

from doclane.api.hub import StatusHub
from doclane.api.security import UserDirectory
from doclane.api.throttle import LoginThrottle
from doclane.infra.ratelimit import KeyedLimiter
from doclane.infra.runtime import Services
from doclane.interviews.live import LiveInterviews

__all__ = ["Gateway"]


@dataclass
class Gateway:
    services: Services
    users: UserDirectory
    jwt_secret: str
    hub: StatusHub
    #: Files each user may upload: a token bucket per user, in this process.
    upload_limiter: KeyedLimiter
    #: Interviews being held over this gateway's WebSockets.
    interviews: LiveInterviews
    #: Failed logins per user and client, in this process.
    login_throttle: LoginThrottle = field(default_factory=LoginThrottle)

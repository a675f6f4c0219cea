"""The event bus interface every transport implements (embedded log, Kafka).

Delivery contract, the same for every adapter:

* events with the same key are delivered to a group in the order they were
  published, one at a time; events with different keys may run concurrently;
* a group's offset is committed only after the handler returned, so an event
  whose handler was interrupted is delivered again (at-least-once);
* a subscription over several topics (priority lanes) prefers the earlier
  topics without starving the later ones.

Handlers decide an event's fate themselves (see ``doclane.consumers.runner``);
an exception escaping a handler is logged and the event counts as handled.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from doclane.schemas.events import Event

__all__ = ["E", "EventBus", "Handler", "Subscription"]

E = TypeVar("E", bound=Event)
Handler = Callable[[E], Awaitable[None]]


@dataclass(frozen=True)
class Subscription(Generic[E]):
    """A consumer group member's wish: these topics, this handler."""

    group: str
    #: In priority order: earlier topics are preferred.
    topics: Sequence[str]
    model: type[E]
    handler: Handler[E]
    #: How many keys are handled at once.
    concurrency: int = 1
    #: Relative share of deliveries per topic when several have events waiting.
    weights: Sequence[int] = field(default=())


class EventBus(Protocol):
    """Publish keyed events; run consumer groups; tail a topic live."""

    async def start(self) -> None:
        """Connect and start every registered subscription."""

    async def close(self) -> None:
        """Stop subscriptions (in-flight events stay uncommitted) and disconnect."""

    async def publish(self, topic: str, key: str, event: Event) -> None:
        """Append ``event`` durably before returning."""

    def subscribe(self, subscription: Subscription[E]) -> None:
        """Register a group member; takes effect at :meth:`start`."""

    def tail(self, topic: str, model: type[E]) -> AsyncIterator[E]:
        """Events published to ``topic`` from now on, without a consumer group."""

    def replay(self, topic: str, model: type[E]) -> AsyncIterator[E]:
        """Every event retained in ``topic``, oldest first, up to its current end."""

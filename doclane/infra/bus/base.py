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

For operators (the admin API) every adapter also reads records back with where
they sit in the log (:meth:`EventBus.records`), reports a group's backlog per
topic (:meth:`EventBus.backlog`) and pauses a group in every process that runs
one of its members (:meth:`EventBus.set_paused`). Pauses are themselves records,
on the :data:`CONTROL_TOPIC`, which every bus running members follows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from doclane.schemas.events import Event

__all__ = [
    "CONTROL_TOPIC", "MEMBERS_TOPIC", "BusRecord", "E", "EventBus", "GroupBacklog", "Handler",
    "Subscription", "TopicBacklog", "key_matches",
]

#: Where pauses and resumes of consumer groups are recorded (keyed by group; the
#: last record of a group is its state, so Kafka compacts this topic).
CONTROL_TOPIC = "doclane.control"
#: Where group members report what they hold in flight and finished (Kafka only:
#: the embedded log's members live in the process that asks).
MEMBERS_TOPIC = "doclane.members"

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


@dataclass(frozen=True, slots=True)
class BusRecord:
    """One record read back with where it sits in the log."""

    topic: str
    partition: int
    offset: int
    #: When the record was appended (``None`` for embedded records older than timestamps).
    timestamp: datetime | None
    key: str
    #: The event, as the JSON it was published as.
    value: str


@dataclass(frozen=True, slots=True)
class TopicBacklog:
    """How far one consumer group is behind on one topic (summed over partitions)."""

    topic: str
    #: Records ever appended (the end offsets).
    end: int
    #: The group's committed offsets: records before them are done.
    committed: int
    #: Records in the group's handlers right now.
    in_flight: int
    #: Age of the oldest record the group has not finished; ``None`` when there is none.
    oldest_waiting_s: float | None
    #: Records the group finished over the last minute.
    done_last_min: int

    @property
    def lag(self) -> int:
        """Records after the committed offsets (in flight included)."""
        return max(0, self.end - self.committed)

    @property
    def depth(self) -> int:
        """Records waiting to be taken: the lag without those in flight."""
        return max(0, self.lag - self.in_flight)


@dataclass(frozen=True, slots=True)
class GroupBacklog:
    """A consumer group's backlog on each of its topics, and its live members."""

    topics: list[TopicBacklog]
    #: Members running now (on Kafka: those that reported in the last seconds).
    members: int
    #: Of those, the members that have applied a pause of the group.
    members_paused: int


def key_matches(key: str, wanted: str) -> bool:
    """``wanted`` itself or one of its sub-keys (``doc`` matches ``doc`` and ``doc:3``)."""
    return key == wanted or key.startswith(f"{wanted}:")


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

    # --- operating the bus (admin) ---

    def records(
        self, topic: str, *, key: str | None = None, since: datetime | None = None
    ) -> AsyncIterator[BusRecord]:
        """Records retained in ``topic`` up to its current end, by partition then offset.

        Only those whose key :func:`key_matches` ``key`` when it is given, and only
        those appended at or after ``since`` when it is given.
        """

    async def backlog(self, group: str, topics: Sequence[str]) -> GroupBacklog:
        """Where ``group`` stands on each of ``topics`` (in that order), and its members."""

    async def set_paused(self, group: str, paused: bool) -> None:
        """Pause (or resume) ``group`` in every process: members start no new record
        while paused (records in handlers finish). Durable: survives restarts."""

    async def paused_groups(self) -> set[str]:
        """The groups paused now."""

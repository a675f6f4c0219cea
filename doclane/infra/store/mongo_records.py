"""The MongoDB store's small records: the result cache, token revocations, A/B observations,
admin marks (redriven letters, lane moves) and interview sessions with their reports."""

from __future__ import annotations

import json
from contextlib import suppress
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from doclane.infra.store._mongo import MongoCollections
from doclane.schemas.events import Priority, utcnow
from doclane.schemas.experiments import ExperimentObservation
from doclane.schemas.interviews import InterviewReport, InterviewSession

__all__ = ["MongoRecords"]


class MongoRecords(MongoCollections):
    """Records kept whole under their ``_id``: the rest of :class:`~doclane.infra.store.base.Store`."""

    # --- result cache ---
    # ``_id`` = key, so a lookup is by bare ``_id`` (no scan on FerretDB) and "first
    # value wins" is an insert whose duplicate-key error is atomic (as for chunks
    # above). The value is kept as JSON text, as SqliteStore does: FerretDB 1.x refuses
    # nested arrays and keys with "." or a leading "$", all of which JSON allows.
    async def cache_get(self, key: str) -> dict[str, Any] | None:
        data = await self._collection("cache").find_one({"_id": key}, {"value": True})
        if data is None:
            return None
        value: dict[str, Any] = json.loads(data["value"])
        return value

    async def token_version(self, user: str) -> int:
        # The head is a hint kept by $max (FerretDB's updates are not atomic, so it may lag);
        # the version is the last revocation claimed after it, found by _id lookups.
        head = await self._collection("token_versions").find_one({"_id": user})
        version = int(head["version"]) if head is not None else 0
        claims = self._collection("token_revocations")
        while await claims.find_one({"_id": f"{user}:{version + 1}"}, projection={"_id": 1}) is not None:
            version += 1
        return version

    async def revoke_tokens(self, user: str) -> int:
        # Each revocation claims the next number with an insert, which the unique _id makes
        # atomic on any server (an $inc on FerretDB is not: two revocations could both read
        # the same version, and the later write could lower it again).
        while True:
            claimed = await self.token_version(user) + 1
            try:
                await self._collection("token_revocations").insert_one({"_id": f"{user}:{claimed}"})
            except DuplicateKeyError:
                continue  # another gateway took this number: the next one is ours to try
            with suppress(DuplicateKeyError):  # two first upserts: the head is only a hint
                await self._collection("token_versions").update_one(
                    {"_id": user}, {"$max": {"version": claimed}}, upsert=True)
            return claimed

    async def cache_put(self, key: str, value: dict[str, Any]) -> None:
        with suppress(DuplicateKeyError):  # another writer came first: its value stays
            await self._collection("cache").insert_one(
                {"_id": key, "value": json.dumps(value), "created_at": utcnow()})

    # --- A/B experiments ---
    async def record_experiment_observation(self, observation: ExperimentObservation) -> None:
        key = "|".join((observation.experiment, observation.document_id, str(observation.unit),
                         observation.version))
        await self._collection("experiment_observations").replace_one(
            {"_id": key}, {"_id": key, **observation.model_dump()}, upsert=True)

    async def experiment_observations(self, experiment: str,
                                      limit: int = 100_000) -> list[ExperimentObservation]:
        found = self._collection("experiment_observations").find(
            {"experiment": experiment}, {"_id": False}).limit(max(limit, 0))
        return [ExperimentObservation.model_validate(data) async for data in found]

    # --- admin ---
    # Both keyed by ``_id`` (no scan on FerretDB); a redrive is marked by an insert whose
    # duplicate-key error is atomic, so two admins redriving one letter get one 202.
    async def mark_redriven(self, letter_id: str) -> bool:
        try:
            await self._collection("dlq_redrives").insert_one({"_id": letter_id, "at": utcnow()})
        except DuplicateKeyError:
            return False
        return True

    async def redriven_letters(self) -> set[str]:
        return {str(d["_id"]) async for d in self._collection("dlq_redrives").find({}, {"_id": True})}

    async def move_lane(self, document_id: str, priority: Priority) -> datetime:
        at = utcnow()
        await self._collection("lane_moves").replace_one(
            {"_id": document_id}, {"priority": priority.value, "at": at}, upsert=True)
        return at

    async def lane_move(self, document_id: str) -> tuple[Priority, datetime] | None:
        found = await self._collection("lane_moves").find_one({"_id": document_id})
        if found is None:
            return None
        return Priority(found["priority"]), found["at"]

    # --- interviews ---
    # The session as JSON text under ``_id`` (FerretDB refuses some keys JSON allows, and a
    # session is read and written whole); ``owner``/``created_at`` beside it for listing.
    async def save_interview(self, session: InterviewSession) -> None:
        await self._collection("interviews").update_one(
            {"_id": session.id},
            {"$set": {"data": session.model_dump_json()},
             "$setOnInsert": {"owner": session.owner, "created_at": session.created_at}},
            upsert=True)

    async def get_interview(self, session_id: str) -> InterviewSession | None:
        found = await self._collection("interviews").find_one({"_id": session_id}, {"data": True})
        return InterviewSession.model_validate_json(found["data"]) if found else None

    async def list_interviews(self, owner: str, limit: int = 50, offset: int = 0) -> list[InterviewSession]:
        found = (self._collection("interviews").find({"owner": owner}, {"data": True})
                 .sort([("created_at", DESCENDING), ("_id", ASCENDING)])
                 .skip(max(offset, 0)).limit(max(limit, 0)))
        return [InterviewSession.model_validate_json(d["data"]) async for d in found]

    async def delete_interview(self, session_id: str) -> bool:
        deleted = await self._collection("interviews").delete_one({"_id": session_id})
        return deleted.deleted_count > 0

    async def save_interview_report(self, session_id: str, report: InterviewReport) -> bool:
        result = await self._collection("interviews").update_one(
            {"_id": session_id}, {"$set": {"report": report.model_dump_json()}})
        return result.matched_count > 0

    async def get_interview_report(self, session_id: str) -> InterviewReport | None:
        found = await self._collection("interviews").find_one({"_id": session_id}, {"report": True})
        if not found or not found.get("report"):
            return None
        return InterviewReport.model_validate_json(found["report"])

"""The SQLite store's small records: token revocations, the result cache, A/B observations,
admin marks (redriven letters, lane moves) and interview sessions with their reports."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from doclane.infra.store._sqlite import SqliteConnections, query_rows
from doclane.schemas.events import Priority, utcnow
from doclane.schemas.experiments import ExperimentObservation
from doclane.schemas.interviews import InterviewReport, InterviewSession

__all__ = ["SqliteRecords"]


class SqliteRecords(SqliteConnections):
    """Records kept whole in their own tables: the rest of :class:`~doclane.infra.store.base.Store`."""

    # --- sessions ---
    async def token_version(self, user: str) -> int:
        rows = await self._fetchall("SELECT version FROM token_versions WHERE user = ?", (user,))
        return int(rows[0][0]) if rows else 0

    async def revoke_tokens(self, user: str) -> int:
        def revoke(db: sqlite3.Connection) -> int:
            (row,) = query_rows(
                db,
                "INSERT INTO token_versions (user, version) VALUES (?, 1) "
                "ON CONFLICT (user) DO UPDATE SET version = version + 1 RETURNING version", (user,))
            return int(row[0])

        return await self._writer.transaction(revoke)

    # --- result cache ---
    async def cache_get(self, key: str) -> dict[str, Any] | None:
        rows = await self._fetchall("SELECT value FROM cache WHERE key = ?", (key,))
        if not rows:
            return None
        value: dict[str, Any] = json.loads(str(rows[0][0]))
        return value

    async def cache_put(self, key: str, value: dict[str, Any]) -> None:
        await self._write(
            "INSERT OR IGNORE INTO cache (key, value, created_at) VALUES (?, ?, ?)",
            (key, json.dumps(value), utcnow().isoformat()),
        )

    # --- A/B experiments ---
    async def record_experiment_observation(self, observation: ExperimentObservation) -> None:
        await self._write(
            "INSERT OR REPLACE INTO experiment_observations "
            "(experiment, document_id, unit, version, data) VALUES (?, ?, ?, ?, ?)",
            (observation.experiment, observation.document_id, observation.unit, observation.version,
             observation.model_dump_json()),
        )

    async def experiment_observations(self, experiment: str,
                                      limit: int = 100_000) -> list[ExperimentObservation]:
        rows = await self._fetchall(
            "SELECT data FROM experiment_observations WHERE experiment = ? LIMIT ?", (experiment, limit))
        return [ExperimentObservation.model_validate_json(str(r[0])) for r in rows]

    # --- admin ---
    async def mark_redriven(self, letter_id: str) -> bool:
        return await self._write("INSERT OR IGNORE INTO dlq_redrives (id, at) VALUES (?, ?)",
                                 (letter_id, utcnow().isoformat())) > 0

    async def redriven_letters(self) -> set[str]:
        return {str(r[0]) for r in await self._fetchall("SELECT id FROM dlq_redrives")}

    async def move_lane(self, document_id: str, priority: Priority) -> datetime:
        at = utcnow()
        await self._write(
            "INSERT INTO lane_moves (document_id, priority, at) VALUES (?, ?, ?) "
            "ON CONFLICT (document_id) DO UPDATE SET priority = excluded.priority, at = excluded.at",
            (document_id, priority.value, at.isoformat()))
        return at

    async def lane_move(self, document_id: str) -> tuple[Priority, datetime] | None:
        rows = await self._fetchall(
            "SELECT priority, at FROM lane_moves WHERE document_id = ?", (document_id,))
        if not rows:
            return None
        return Priority(str(rows[0][0])), datetime.fromisoformat(str(rows[0][1]))

    # --- interviews ---
    async def save_interview(self, session: InterviewSession) -> None:
        await self._write(
            "INSERT INTO interviews (id, owner, created_at, data) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            (session.id, session.owner, session.created_at.isoformat(), session.model_dump_json()))

    async def get_interview(self, session_id: str) -> InterviewSession | None:
        rows = await self._fetchall("SELECT data FROM interviews WHERE id = ?", (session_id,))
        return InterviewSession.model_validate_json(str(rows[0][0])) if rows else None

    async def list_interviews(self, owner: str, limit: int = 50, offset: int = 0) -> list[InterviewSession]:
        rows = await self._fetchall(
            "SELECT data FROM interviews WHERE owner = ? ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
            (owner, max(limit, 0), max(offset, 0)))
        return [InterviewSession.model_validate_json(str(r[0])) for r in rows]

    async def delete_interview(self, session_id: str) -> bool:
        return await self._write("DELETE FROM interviews WHERE id = ?", (session_id,)) > 0

    async def save_interview_report(self, session_id: str, report: InterviewReport) -> bool:
        return await self._write("UPDATE interviews SET report = ? WHERE id = ?",
                                 (report.model_dump_json(), session_id)) > 0

    async def get_interview_report(self, session_id: str) -> InterviewReport | None:
        rows = await self._fetchall("SELECT report FROM interviews WHERE id = ?", (session_id,))
        if not rows or rows[0][0] is None:
            return None
        return InterviewReport.model_validate_json(str(rows[0][0]))

"""Interview latency through real embedded servers and real WebSocket clients.

Definitions (all times on the client, from sending ``input.end``):

* *first committed token*: for a reply started at ``input.end``, its first ``reply.delta``;
  for a tentative reply (its tokens were already streamed), the later of its ``reply.commit``
  and its first ``reply.delta``: the moment the candidate may rely on words they already have.
* *local reply*: ``input.end`` → ``reply.end`` of a reply worded by the ``local`` provider.

The candidate speaks like a person: ``input.update`` with the final text, then ~700 ms of
silence, then ``input.end`` with the same text.
"""

from __future__ import annotations

import asyncio
import json
import math
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets

from tests.utils.api import auth, login, upload, wait_until_terminal
from tests.utils.server import ServerProcess

__all__ = ["SpeedRun", "percentile", "run_speed"]

DATA = Path(__file__).parents[1] / "tests" / "data" / "interviews"
ANSWER = (
    "At my last job I built the settlement service in Python because the old batch job missed its "
    "window. I split it into three workers, which cut the run from 40 minutes to 6 minutes."
)
SPEAKING_PAUSE_S = 0.7


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile: the smallest value with at least ``share`` of the values at or below it."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass
class SpeedRun:
    tentative_on_ms: list[float] = field(default_factory=list)
    tentative_off_ms: list[float] = field(default_factory=list)
    local_reply_ms: list[float] = field(default_factory=list)
    local_first_token_ms: list[float] = field(default_factory=list)
    concurrent_sessions: int = 0
    concurrent_completed: int = 0
    concurrent_first_token_ms: list[float] = field(default_factory=list)
    concurrent_wall_s: float = 0.0
    #: Concurrent sessions that, ended after their turns, got a report.
    concurrent_reported: int = 0
    committed_on: int = 0


class _Client:
    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws

    async def send(self, kind: str, **body: Any) -> None:
        await self.ws.send(json.dumps({"type": kind, **body}))

    async def until(self, kind: str, timeout_s: float = 60) -> dict[str, Any]:
        async with asyncio.timeout(timeout_s):
            while True:
                message = json.loads(await self.ws.recv())
                if message["type"] == kind:
                    return message

    async def turn(self, turn_id: str, text: str, speak: bool) -> tuple[float, float, bool]:
        """(ms to the first committed token, ms to reply.end, whether a tentative reply was committed)."""
        if speak:
            await self.send("input.update", turn_id=turn_id, rev=1, text=text)
            await asyncio.sleep(SPEAKING_PAUSE_S)  # the candidate's pause before the turn ends
        await self.send("input.end", turn_id=turn_id, rev=2, text=text)
        sent = time.perf_counter()
        first_delta: dict[str, float] = {}
        committed_at = None
        reply_id = None
        async with asyncio.timeout(60):
            while True:
                message = json.loads(await self.ws.recv())
                kind, now = message["type"], time.perf_counter()
                if kind == "reply.start" and not message.get("tentative"):
                    reply_id = message["reply_id"]
                elif kind == "reply.delta":
                    first_delta.setdefault(message["reply_id"], now)
                elif kind == "reply.commit":
                    committed_at, reply_id = now, message["reply_id"]
                elif kind == "reply.end" and message["reply_id"] == reply_id:
                    break
        # A tentative reply's tokens may have arrived before input.end: it counts from its commit.
        if committed_at is not None:
            token_at = max(committed_at, first_delta.get(reply_id or "", committed_at))
        else:
            token_at = first_delta.get(reply_id or "", now)
        return (max(0.0, token_at - sent) * 1000, (now - sent) * 1000, committed_at is not None)


async def _documents(client: httpx.AsyncClient) -> tuple[str, str]:
    response = await upload(client, [DATA / "backend-engineer-jd.md", DATA / "maria-resume.txt"])
    jd, resume = (r["document"]["id"] for r in response.json()["results"])
    for doc_id in (jd, resume):
        assert (await wait_until_terminal(client, doc_id, timeout_s=120))["status"] == "completed"
    return jd, resume


async def _session(client: httpx.AsyncClient, docs: tuple[str, str], provider: str, questions: int) -> str:
    response = await client.post(
        "/interviews",
        json={
            "job_description_id": docs[0],
            "resume_id": docs[1],
            "max_questions": questions,
            "provider": provider,
        },
    )
    response.raise_for_status()
    return str(response.json()["id"])


async def _interview(
    url: str, token: str, session_id: str, turns: int, speak: bool
) -> list[tuple[float, float, bool]]:
    """Greeting, "ready", then ``turns`` answers; the measures of each answer."""
    ws_url = url.replace("http", "ws") + f"/interviews/{session_id}/ws?token={token}"
    async with websockets.connect(ws_url, open_timeout=60) as ws:
        client = _Client(ws)
        await client.until("reply.end")  # the greeting
        await client.turn("t0", "Yes, I am ready to start.", speak=False)
        return [await client.turn(f"t{i}", ANSWER, speak) for i in range(1, turns + 1)]


async def _one_server(
    folder: Path,
    env: dict[str, str],
    provider: str,
    sessions: int,
    turns: int,
    speak: bool,
    concurrent: bool = False,
) -> tuple[list[list[tuple[float, float, bool]]], float, int]:
    """Each session's turn measures, the wall time of the interviews, and (when ``concurrent``)
    how many sessions, ended afterwards, got their report from the assessor group."""
    server = ServerProcess(folder, env).start()
    try:
        token = await asyncio.to_thread(login, server.url, "alice", "alice-pw")
        async with httpx.AsyncClient(base_url=server.url, headers=auth(token), timeout=60) as client:
            docs = await _documents(client)
            ids = [await _session(client, docs, provider, turns) for _ in range(sessions)]
        started = time.perf_counter()
        if concurrent:
            results = await asyncio.gather(
                *(_interview(server.url, token, i, turns, speak) for i in ids), return_exceptions=True
            )
            wall = time.perf_counter() - started
            done = [r for r in results if not isinstance(r, BaseException)]
            ok = [i for i, r in zip(ids, results, strict=True) if not isinstance(r, BaseException)]
            async with httpx.AsyncClient(base_url=server.url, headers=auth(token), timeout=60) as client:
                reported = sum(await asyncio.gather(*(_ended_with_report(client, i) for i in ok)))
            return done, wall, reported
        done = [await _interview(server.url, token, i, turns, speak) for i in ids]
        return done, time.perf_counter() - started, 0
    finally:
        server.stop()


async def _ended_with_report(client: httpx.AsyncClient, session_id: str, timeout_s: float = 120) -> bool:
    (await client.post(f"/interviews/{session_id}/end")).raise_for_status()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        response = await client.get(f"/interviews/{session_id}/report")
        if response.status_code == 200:
            return True
        await asyncio.sleep(0.2)
    return False


async def run_speed(
    folder: Path, ttft_ms: int = 600, rounds: int = 6, turns: int = 5, concurrent_sessions: int = 50
) -> SpeedRun:
    run = SpeedRun()
    base = {"DOCLANE_INTERVIEW_MOCK_TTFT_MS": str(ttft_ms), "DOCLANE_HEARTBEAT_S": "15"}
    on, _, _ = await _one_server(folder / "tentative-on", base, "mock", rounds, turns, speak=True)
    off, _, _ = await _one_server(
        folder / "tentative-off",
        {**base, "DOCLANE_INTERVIEW_TENTATIVE": "false"},
        "mock",
        rounds,
        turns,
        speak=True,
    )
    run.tentative_on_ms = [t for s in on for t, _, _ in s]
    run.committed_on = sum(c for s in on for _, _, c in s)
    run.tentative_off_ms = [t for s in off for t, _, _ in s]
    local, _, _ = await _one_server(
        folder / "local",
        {**base, "DOCLANE_INTERVIEW_TENTATIVE": "false"},
        "local",
        rounds,
        turns,
        speak=False,
    )
    run.local_reply_ms = [e for s in local for _, e, _ in s]
    run.local_first_token_ms = [t for s in local for t, _, _ in s]
    many, wall, reported = await _one_server(
        folder / "concurrent", base, "mock", concurrent_sessions, 3, speak=True, concurrent=True
    )
    run.concurrent_sessions = concurrent_sessions
    run.concurrent_completed = len(many)
    run.concurrent_reported = reported
    run.concurrent_first_token_ms = [t for s in many for t, _, _ in s]
    run.concurrent_wall_s = wall
    return run


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": round(statistics.median(values), 1),
        "p95": round(percentile(values, 0.95), 1),
        "max": round(max(values), 1),
    }

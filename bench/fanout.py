"""Benchmark: one gateway process fanning status events out to 10,000 SSE and 2,000 WebSocket clients.

One real ``doclane serve`` process (embedded mode: SQLite store, in-process bus;
the fan-out code is the same in distributed mode, only the feed it tails is
Kafka) with 1,000 users. Client processes (asyncio, a minimal HTTP/1.1 chunked
SSE reader; the ``websockets`` client for ``/ws``) open ``--per-user``
connections per user with real JWTs, then every user uploads ``--docs`` small
text files through ``POST /documents/upload``, so every status event takes the
real path: the pipeline stores it (cursor), publishes it on ``document.status``,
the hub tails it and each connection's follow loop sends it.

Checked for every client: it receives every status event of its owner exactly
once, in cursor order, with nothing missing (cursors 1..n contiguous, the same
sequence for every client of the owner, and equal to the owner's history read
back from the store with ``since=0``). Measured: delivery latency (the event's
``timestamp``, set when the store creates it, to the client's receipt; same
clock), the gateway's RSS before and with every client connected and idle, and
its CPU time.

    python -m bench.fanout [--users 1000] [--per-user 10] [--ws-users 200] [--procs 4]

Results go to ``bench/results/fanout.json`` and a history in ``bench/results/fanout.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import platform
import resource
import statistics
import tempfile
import time
from collections.abc import Awaitable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench._common import save_results
from bench._serve import cpu_s
from doclane.cli_startup import raise_fd_limit  # each connection is a descriptor, here as in the gateway

JWT_SECRET = "bench-fanout-secret-that-is-long-enough-for-hs256-0123456789"  # noqa: S105 - a bench
PASSWORD = "bench-pw"  # noqa: S105 - a bench user's
TERMINAL = {"completed", "failed"}
_STOPPED = object()


def _user(i: int) -> str:
    return f"u{i:04d}"


# --------------------------------------------------------------------------- clients


async def _unless_stopped(step: Awaitable[Any], stopping: asyncio.Future[Any]) -> Any:
    """``step``'s result, or ``_STOPPED`` (``step`` cancelled) if ``stopping`` finishes first."""
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if task not in done:
        task.cancel()
        return _STOPPED
    return task.result()


class _Client:
    """One connection's record: what it received, in order."""

    __slots__ = ("connected", "error", "events", "latencies_ms", "owner", "start", "terminal")

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.start = 0  # the cursor the stream starts after (fresh users: 0)
        self.events: list[tuple[int, str, str]] = []  # (cursor, document, status)
        self.latencies_ms: list[float] = []
        self.terminal: set[str] = set()
        self.error: str | None = None
        self.connected = False

    def take(self, data: str, now: float) -> None:
        event = json.loads(data)
        self.events.append((event["cursor"], event["document_id"], event["status"]))
        created = datetime.fromisoformat(event["timestamp"]).timestamp()
        self.latencies_ms.append((now - created) * 1000)
        if event["status"] in TERMINAL:
            self.terminal.add(event["document_id"])


async def _sse(host: str, port: int, token: str, client: _Client, on_open: asyncio.Event,
               stop: asyncio.Event, since: int | None = None, until_cursor: int | None = None) -> None:
    """A minimal SSE reader: HTTP/1.1, chunked body, events split at blank lines."""
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
    try:
        query = f"?since={since}" if since is not None else ""
        writer.write(f"GET /documents/stream{query} HTTP/1.1\r\nHost: {host}\r\n"
                     f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n".encode())
        status = await reader.readline()
        if b" 200 " not in status:
            raise RuntimeError(f"stream answered {status!r}")
        while (await reader.readline()) not in (b"\r\n", b"\n", b""):
            pass
        client.connected = True
        on_open.set()
        buffer = b""
        stopping = asyncio.ensure_future(stop.wait())
        while (line := await _unless_stopped(reader.readline(), stopping)) is not _STOPPED:
            size = int(line.strip() or b"0", 16)
            if size == 0:
                return
            buffer += (await reader.readexactly(size + 2))[:-2]
            now = time.time()
            buffer = buffer.replace(b"\r\n", b"\n")
            while b"\n\n" in buffer:
                block, buffer = buffer.split(b"\n\n", 1)
                data = [ln[5:].strip() for ln in block.split(b"\n") if ln.startswith(b"data:")]
                if data and b"event: status" in block:
                    client.take(b"".join(data).decode(), now)
                    if until_cursor is not None and client.events[-1][0] >= until_cursor:
                        stopping.cancel()
                        return
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def _ws(host: str, port: int, token: str, client: _Client, on_open: asyncio.Event,
              stop: asyncio.Event) -> None:
    import websockets

    async with websockets.connect(f"ws://{host}:{port}/ws?token={token}", max_queue=None,
                                  ping_interval=None, open_timeout=120) as ws:
        ready = json.loads(await ws.recv())
        if ready.get("type") != "ready":
            raise RuntimeError(f"ws answered {ready}")
        client.start = int(ready["cursor"])
        client.connected = True
        on_open.set()
        stopping = asyncio.ensure_future(stop.wait())
        while (message := await _unless_stopped(ws.recv(), stopping)) is not _STOPPED:
            now = time.time()
            if '"type": "status"' in message or '"type":"status"' in message:
                client.take(message, now)


def _client_process(kind: str, host: str, port: int, owners: dict[str, str], per_user: int,
                    docs: int, conn: Any) -> None:
    """Runs in its own process: ``per_user`` connections for each of ``owners`` (name -> token)."""
    raise_fd_limit()
    with contextlib.suppress(ImportError):
        import uvloop
        uvloop.install()
    asyncio.run(_client_main(kind, host, port, owners, per_user, docs, conn))


async def _client_main(kind: str, host: str, port: int, owners: dict[str, str], per_user: int,
                       docs: int, conn: Any) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    clients = [_Client(owner) for owner in owners for _ in range(per_user)]
    gate = asyncio.Semaphore(100)  # connects at once: the gateway's accept backlog is finite

    async def run(client: _Client) -> None:
        opened = asyncio.Event()
        connect = _sse if kind == "sse" else _ws
        for attempt in range(5):
            async with gate:
                task = asyncio.ensure_future(connect(host, port, owners[client.owner], client, opened, stop))
                waiter = asyncio.ensure_future(opened.wait())
                await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
            try:
                await task
                return
            except Exception as exc:
                client.error = f"{type(exc).__name__}: {exc}"
                if client.connected:
                    return
                await asyncio.sleep(0.2 * (attempt + 1))

    tasks = [asyncio.ensure_future(run(c)) for c in clients]
    started = loop.time()
    while sum(c.connected for c in clients) < len(clients):
        if loop.time() - started > 900:
            break
        await asyncio.sleep(0.2)
    conn.send(("connected", sum(c.connected for c in clients),
               [c.error for c in clients if c.error][:3]))
    # Wait for every client to have seen each of its owner's documents finish.
    await loop.run_in_executor(None, conn.recv)  # "go": uploads are starting
    deadline = loop.time() + 1800
    while loop.time() < deadline and not all(len(c.terminal) >= docs for c in clients):  # noqa: ASYNC110
        await asyncio.sleep(0.25)
    done_at = time.time()
    conn.send(("delivered", sum(len(c.terminal) >= docs for c in clients)))
    await loop.run_in_executor(None, conn.recv)  # "stop": every process is done
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)

    # Each owner's history from the store, to compare every client against.
    truth: dict[str, list[tuple[int, str, str]]] = {}
    gate2 = asyncio.Semaphore(50)

    async def history(owner: str) -> None:
        top = max((c.events[-1][0] for c in clients if c.owner == owner and c.events), default=0)
        if top == 0:
            truth[owner] = []
            return
        record = _Client(owner)
        since = min(c.start for c in clients if c.owner == owner)
        async with gate2:
            await asyncio.wait_for(_sse(host, port, owners[owner], record, asyncio.Event(),
                                        asyncio.Event(), since=since, until_cursor=top), 60)
        truth[owner] = record.events

    await asyncio.gather(*(history(o) for o in owners), return_exceptions=True)
    conn.send(("result", _summarise(clients, truth, docs), done_at))


def _summarise(clients: list[_Client], truth: dict[str, list[tuple[int, str, str]]],
               docs: int) -> dict[str, Any]:
    by_owner: dict[str, list[_Client]] = {}
    for c in clients:
        by_owner.setdefault(c.owner, []).append(c)
    bad: list[str] = []
    deliveries = 0
    for owner, group in by_owner.items():
        reference = group[0].events
        for c in group:
            deliveries += len(c.events)
            cursors = [e[0] for e in c.events]
            if cursors != list(range(c.start + 1, c.start + len(cursors) + 1)):
                bad.append(f"{owner}: cursors not 1..n exactly once in order ({cursors[:12]}...)")
            elif c.events != reference:
                bad.append(f"{owner}: clients of one owner got different sequences")
            elif len(c.terminal) < docs:
                bad.append(f"{owner}: only {len(c.terminal)} of {docs} documents finished")
            elif owner in truth and c.events != truth[owner]:
                bad.append(f"{owner}: differs from the store's history ({len(c.events)} vs "
                           f"{len(truth[owner])} events)")
    latencies = [x for c in clients for x in c.latencies_ms]
    return {"clients": len(clients), "deliveries": deliveries, "bad": bad[:20], "bad_count": len(bad),
            "errors": [c.error for c in clients if c.error][:5],
            "owners_checked_against_store": sum(1 for o in by_owner if o in truth),
            "latencies_ms": latencies}


# --------------------------------------------------------------------------- driver


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def _upload_all(url: str, tokens: dict[str, str], docs: int, rate_per_s: float,
                      folder: Path) -> float:
    import httpx

    body = (folder / "note.txt")
    body.write_text("A short note about the quarterly budget review and the next steps.\n" * 4)
    content = body.read_bytes()
    jobs = [(owner, i) for i in range(docs) for owner in tokens]
    start = time.perf_counter()
    gate = asyncio.Semaphore(16)
    async with httpx.AsyncClient(base_url=url, timeout=600) as http:
        async def one(n: int, owner: str, i: int) -> None:
            await asyncio.sleep(max(0.0, start + n / rate_per_s - time.perf_counter()))
            async with gate:
                r = await http.post("/documents/upload", headers={"Authorization": f"Bearer {tokens[owner]}"},
                                    files=[("files", (f"note-{owner}-{i}.txt", content))])
                r.raise_for_status()

        await asyncio.gather(*(one(n, o, i) for n, (o, i) in enumerate(jobs)))
    return time.perf_counter() - start


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_phase(kind: str, server: Any, tokens: dict[str, str], per_user: int, docs: int,
              procs: int, rate_per_s: float, folder: Path) -> dict[str, Any]:
    """Connect every client, measure idle memory, upload, wait for delivery, check, summarise."""
    pid = server.pid
    host, port = "127.0.0.1", server.port
    ctx = mp.get_context("spawn")
    owners = list(tokens)
    parts = [{o: tokens[o] for o in owners[k::procs]} for k in range(procs)]
    time.sleep(2)
    rss_before = _rss_kb(pid)
    pipes, workers = [], []
    t0 = time.perf_counter()
    for part in parts:
        parent, child = ctx.Pipe()
        worker = ctx.Process(target=_client_process, args=(kind, host, port, part, per_user, docs, child),
                             daemon=True)
        worker.start()
        pipes.append(parent)
        workers.append(worker)
    connected = [p.recv() for p in pipes]
    connect_s = time.perf_counter() - t0
    n_connected = sum(c[1] for c in connected)
    time.sleep(5)  # idle: heartbeats and rechecks only
    rss_idle = _rss_kb(pid)
    cpu0, w0 = cpu_s(pid), time.perf_counter()
    time.sleep(10)
    idle_cpu = (cpu_s(pid) - cpu0) / (time.perf_counter() - w0)
    print(f"[{kind}] {n_connected} connected in {connect_s:.1f} s; RSS {rss_before // 1024} -> "
          f"{rss_idle // 1024} MB; idle CPU {idle_cpu:.2f} cores", flush=True)
    for p in pipes:
        p.send("go")
    cpu1 = cpu_s(pid)
    upload_s = asyncio.run(_upload_all(server.url, tokens, docs, rate_per_s, folder))
    delivered = [p.recv() for p in pipes]
    deliver_s = time.perf_counter() - t0 - connect_s - 15
    cpu_busy = cpu_s(pid) - cpu1
    rss_peak = _rss_kb(pid)
    for p in pipes:
        p.send("stop")
    results = [p.recv() for p in pipes]
    for w in workers:
        w.join(120)
    summaries = [r[1] for r in results]
    latencies = [x for s in summaries for x in s["latencies_ms"]]
    bad = [b for s in summaries for b in s["bad"]]
    out = {
        "kind": kind,
        "clients": sum(s["clients"] for s in summaries),
        "connected": n_connected,
        "connect_errors": [e for c in connected for e in c[2]][:5],
        "owners": len(owners),
        "clients_per_owner": per_user,
        "documents": len(owners) * docs,
        "clients_all_delivered": sum(d[1] for d in delivered),
        "deliveries": sum(s["deliveries"] for s in summaries),
        "exactly_once_in_order": not bad and sum(s["bad_count"] for s in summaries) == 0,
        "violations": bad[:10],
        "owners_checked_against_store": sum(s["owners_checked_against_store"] for s in summaries),
        "latency_ms": {"p50": round(_percentile(latencies, 0.50), 1),
                       "p90": round(_percentile(latencies, 0.90), 1),
                       "p99": round(_percentile(latencies, 0.99), 1),
                       "max": round(max(latencies, default=float("nan")), 1),
                       "mean": round(statistics.fmean(latencies), 1) if latencies else None},
        "connect_s": round(connect_s, 1),
        "upload_s": round(upload_s, 1),
        "deliver_s": round(deliver_s, 1),
        "gateway_rss_before_mb": round(rss_before / 1024, 1),
        "gateway_rss_idle_mb": round(rss_idle / 1024, 1),
        "gateway_rss_peak_mb": round(rss_peak / 1024, 1),
        "gateway_kb_per_idle_client": round((rss_idle - rss_before) / max(1, n_connected), 1),
        "gateway_idle_cpu_cores": round(idle_cpu, 3),
        "gateway_cpu_s_while_delivering": round(cpu_busy, 1),
    }
    print(json.dumps({k: v for k, v in out.items() if k != "violations"}, indent=1), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--per-user", type=int, default=10)
    parser.add_argument("--ws-users", type=int, default=200)
    parser.add_argument("--ws-per-user", type=int, default=10)
    parser.add_argument("--docs", type=int, default=1, help="documents each user uploads per phase")
    parser.add_argument("--procs", type=int, default=4, help="client processes")
    parser.add_argument("--rate", type=float, default=20, help="uploads per second")
    parser.add_argument("--skip-ws", action="store_true")
    args = parser.parse_args()
    raise_fd_limit()

    from doclane.api.security import User, issue_token
    from tests.utils.server import ServerProcess

    users = [_user(i) for i in range(args.users)]
    # Tokens signed with the gateway's key by the function POST /auth/login uses (version 0:
    # nobody logged out); logging 1,000 users in would be 1,000 bcrypt checks and trip the
    # login throttle, which is not what this measures.
    tokens = {u: issue_token(User(u, "user"), JWT_SECRET, 3 * 3600) for u in users}
    plan = [("sse", users, args.per_user, args.procs)]
    if not args.skip_ws:
        plan.append(("ws", users[:args.ws_users], args.ws_per_user, max(1, args.procs // 2)))
    phases = []
    with tempfile.TemporaryDirectory(prefix="doclane-fanout-") as tmp:
        folder = Path(tmp)
        for kind, names, per_user, procs in plan:
            # A fresh gateway per phase: its memory per client is not blurred by what the
            # previous phase's clients left in the allocator.
            env = {
                "DOCLANE_USERS": ",".join(f"{u}:{PASSWORD}:user" for u in names),
                "DOCLANE_JWT_SECRET": JWT_SECRET,
                "DOCLANE_AI_PROVIDER": "mock",
                "DOCLANE_SEARCH_ENABLED": "false",
                "DOCLANE_UPLOAD_RATE_PER_MIN": "6000",
            }
            server = ServerProcess(folder / f"data-{kind}", env)
            server.start(timeout_s=900)  # hashing 1,000 passwords at start takes a while
            try:
                phases.append(run_phase(kind, server, {u: tokens[u] for u in names}, per_user,
                                        args.docs, procs, args.rate, folder))
            finally:
                server.stop()
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_avg_at_end": [round(x, 1) for x in os.getloadavg()],
        "gateway": "doclane serve (embedded: SQLite store, in-process bus, mock AI, search off)",
        "events": "uploads of a small text file per user, through the real pipeline and status path",
        "fd_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        "phases": phases,
    }
    write_results(result)


def write_results(result: dict[str, Any]) -> None:
    save_results(
        "fanout", result,
        "# Fan-out: one gateway, many live clients\n\n"
        "Written by `python -m bench.fanout`; one row per phase per run.\n\n"
        "| when | kind | clients (owners x per owner) | events delivered | exactly once, in order "
        "| p50 ms | p99 ms | max ms | KB per idle client | idle CPU (cores) | load avg |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n",
        (f"| {result['when']} | {p['kind']} | {p['connected']} ({p['owners']} x "
         f"{p['clients_per_owner']}) | {p['deliveries']} | "
         f"{'yes' if p['exactly_once_in_order'] else 'NO'} | {p['latency_ms']['p50']} "
         f"| {p['latency_ms']['p99']} | {p['latency_ms']['max']} "
         f"| {p['gateway_kb_per_idle_client']} | {p['gateway_idle_cpu_cores']} "
         f"| {result['load_avg_at_end'][0]} |\n" for p in result["phases"]))


if __name__ == "__main__":
    main()

"""Benchmark: the embedded pipeline vs the distributed one on each FerretDB backend.

One run, one generated corpus (``bench.pipeline``'s), the same configuration
(search indexing on with the default local embedding model and NER, as
``doclane serve`` runs): embedded (``doclane serve`` on SQLite), then the
gateway and one worker per stage as processes on Kafka with the results in
FerretDB 1.24 on SQLite, and again with FerretDB on PostgreSQL. Each FerretDB
is a private instance (``infra/ferretdb.sh`` with ``DOCLANE_INFRA_INSTANCE``,
on free ports, with its metrics endpoint on), so its CPU and its commands are
this run's alone; the PostgreSQL one keeps its data in a database of its own on
the test PostgreSQL server.

While each run streams, every process's CPU (``/proc``, with its children:
the worker pools, the PostgreSQL backends serving the run's databases) is
sampled, and FerretDB's per-command counters are read before and after. Each
figure says which process bounds it. Results: ``bench/results/distributed.json``
and a history in ``bench/results/distributed.md``.

    infra/with-infra.sh .venv/bin/python -m bench.distributed [--docs 24] [--pages 5-40]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pymongo

from bench._common import save_results
from bench.pipeline import end_to_end, make_corpus
from tests.utils.cluster import Cluster, cluster_env, fresh_search_database
from tests.utils.server import ServerProcess, free_port

_INFRA = Path(__file__).resolve().parents[1] / "infra"
_CACHE = Path(os.environ.get("DOCLANE_CACHE_DIR", Path.home() / ".cache" / "doclane"))
_TICK_S = 1 / os.sysconf("SC_CLK_TCK")
_SAMPLE_S = 0.5


def _proc_table() -> dict[int, tuple[int, float]]:
    """Every process's parent and CPU seconds (user + system) so far."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        table[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) * _TICK_S)
    return table


@dataclass
class CpuSampler:
    """CPU seconds per named group of processes: each root pid with its descendants.

    ``extra`` names more pids at each sample (PostgreSQL backends come and go).
    """

    roots: dict[str, int]
    extra: Callable[[], dict[int, str]] = dict
    cpu_s: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    _stop: threading.Event = field(default_factory=threading.Event)

    def _group(self, pid: int, table: dict[int, tuple[int, float]], extra: dict[int, str]) -> str | None:
        by_pid = {p: n for n, p in self.roots.items()} | extra
        seen = 0
        while pid > 1 and seen < 64:
            if pid in by_pid:
                return by_pid[pid]
            pid, seen = table.get(pid, (0, 0.0))[0], seen + 1
        return None

    def _run(self) -> None:
        last: dict[int, float] = {}
        while True:
            table, extra = _proc_table(), self.extra()
            for pid, (_, cpu) in table.items():
                group = self._group(pid, table, extra)
                if group is None:
                    continue
                if pid in last:
                    self.cpu_s[group] += cpu - last[pid]
                last[pid] = cpu
            if self._stop.wait(_SAMPLE_S):
                return

    @contextmanager
    def running(self) -> Iterator[CpuSampler]:
        thread = threading.Thread(target=self._run, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()


def _bound(cpu_s: dict[str, float], wall_s: float, pages: int) -> dict[str, Any]:
    """CPU per process: cores used during the run, and CPU milliseconds per page.

    On a loaded machine a process gets less CPU than it would use, so the cores
    figure understates demand; CPU time per page does not depend on the load. The
    busiest process (most CPU per page) bounds the run when the machine's cores are
    all busy, and a single-threaded one bounds it at 1 / (its CPU s per page) pages/s.
    """
    ranked = sorted(cpu_s.items(), key=lambda kv: -kv[1])
    return {
        "cpu_cores_by_process": {k: round(v / wall_s, 2) for k, v in ranked},
        "cpu_ms_per_page_by_process": {k: round(1000 * v / pages, 1) for k, v in ranked},
        "cpu_ms_per_page_total": round(1000 * sum(cpu_s.values()) / pages, 1),
        "busiest": ranked[0][0] if ranked else None,
    }


# --- FerretDB instances ---
@dataclass
class Ferret:
    """A private FerretDB (``infra/ferretdb.sh`` instance) with its metrics endpoint."""

    handler: str
    pg_url: str | None = None
    instance: str = field(default_factory=lambda: f"bench-{uuid.uuid4().hex[:8]}")
    port: int = field(default_factory=free_port)
    debug_port: int = field(default_factory=free_port)

    @property
    def env(self) -> dict[str, str]:
        env = {**os.environ, "DOCLANE_INFRA_INSTANCE": self.instance,
               "DOCLANE_MONGO_PORT": str(self.port),
               "DOCLANE_FERRETDB_DEBUG_ADDR": f"127.0.0.1:{self.debug_port}",
               "DOCLANE_FERRETDB_HANDLER": self.handler}
        if self.pg_url:
            env["DOCLANE_FERRETDB_POSTGRESQL_URL"] = self.pg_url
        return env

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    @property
    def pid(self) -> int:
        run = _CACHE / "instances" / self.instance / "run" / "ferretdb.pid"
        return int(run.read_text())

    def _script(self, action: str) -> None:
        subprocess.run([str(_INFRA / "ferretdb.sh"), action], env=self.env, check=True,
                       capture_output=True, timeout=180)

    def commands(self) -> dict[str, int]:
        """FerretDB's count of requests so far, per command."""
        text = httpx.get(f"http://127.0.0.1:{self.debug_port}/debug/metrics", timeout=10).text
        found = re.findall(r'^ferretdb_client_requests_total\{command="(\w+)",opcode="\w+"\} (\d+)',
                           text, re.MULTILINE)
        return {c: int(n) for c, n in found}

    @contextmanager
    def running(self) -> Iterator[Ferret]:
        self._script("start")
        try:
            yield self
        finally:
            self._script("stop")
            shutil.rmtree(_CACHE / "instances" / self.instance, ignore_errors=True)


def _pg_backends(admin_url: str, databases: list[str]) -> Callable[[], dict[int, str]]:
    """A function naming the PostgreSQL backends that serve ``databases`` (by database)."""
    conn = psycopg.connect(admin_url, autocommit=True)

    def backends() -> dict[int, str]:
        rows = conn.execute("SELECT pid, datname FROM pg_stat_activity WHERE datname = ANY(%s) "
                            "AND pid <> pg_backend_pid()", (databases,)).fetchall()
        return {int(pid): f"postgres ({name})" for pid, name in rows}
    return backends


# --- runs ---
#: A process may first build a model the code changed (see doclane.ai): minutes on a busy machine.
_START_S = 600


def _start_cluster(data_dir: Path, env: dict[str, str]) -> Cluster:
    """The gateway and one worker per stage (``Cluster.start`` with patient start-ups)."""
    cluster = Cluster(data_dir, env)
    try:
        cluster.gateway.start(timeout_s=_START_S)
        for stage, name in (("extract", "extractor"), ("analyze", "analyzer-1"),
                            ("index", "indexer-1"), ("aggregate", "aggregator")):
            cluster.add_worker(stage, name).start(timeout_s=_START_S)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def run_embedded(paths: list[Path], data_dir: Path, pages: int) -> dict[str, Any]:
    server = ServerProcess(data_dir)
    server.start(timeout_s=_START_S)
    try:
        sampler = CpuSampler({"doclane serve": server.pid or 0})
        with sampler.running():
            wall_s = asyncio.run(end_to_end(paths, server.url))
    finally:
        server.stop()
    return {"wall_s": wall_s, **_bound(sampler.cpu_s, wall_s, pages)}


def run_distributed(paths: list[Path], data_dir: Path, pages: int, handler: str, kafka: str,
                    search_admin: str) -> dict[str, Any]:
    pg_db = f"ferret_{uuid.uuid4().hex[:10]}"
    pg_url = fresh_search_database(search_admin, pg_db) if handler == "postgresql" else None
    ferret = Ferret(handler, pg_url)
    try:
        return _measure(paths, data_dir, pages, handler, kafka, search_admin, ferret, pg_db)
    finally:
        if pg_url:  # FerretDB's own database, gone with the run
            with psycopg.connect(search_admin, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)")


def _measure(paths: list[Path], data_dir: Path, pages: int, handler: str, kafka: str,
             search_admin: str, ferret: Ferret, pg_db: str) -> dict[str, Any]:
    with ferret.running():
        env = cluster_env(kafka, ferret.url, search_admin)
        search_db = env["DOCLANE_SEARCH_URL"].rsplit("/", 1)[1]
        cluster = _start_cluster(data_dir, env)
        try:
            roots = {"gateway": cluster.gateway.pid or 0, f"ferretdb ({handler})": ferret.pid,
                     **{name: w.pid or 0 for name, w in cluster.workers.items()}}
            before = ferret.commands()
            sampler = CpuSampler(roots, _pg_backends(search_admin, [search_db, pg_db]))
            with sampler.running():
                wall_s = asyncio.run(end_to_end(paths, cluster.gateway.url))
            after = ferret.commands()
        finally:
            cluster.stop()
        client: pymongo.MongoClient[dict[str, Any]]
        with pymongo.MongoClient(ferret.url) as client:
            chunks = client[env["DOCLANE_MONGO_DATABASE"]]["chunks"].count_documents({})
    ops = {c: n - before.get(c, 0) for c, n in after.items() if n - before.get(c, 0) > 0}
    return {
        "wall_s": wall_s, "chunks": chunks, **_bound(sampler.cpu_s, wall_s, pages),
        "mongo_commands": ops,
        "mongo_commands_per_chunk": {c: round(n / max(chunks, 1), 1) for c, n in
                                     sorted(ops.items(), key=lambda kv: -kv[1])},
        "mongo_commands_per_chunk_total": round(sum(ops.values()) / max(chunks, 1), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=24)
    parser.add_argument("--pages", default="5-40", help="page count range, e.g. 5-40")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    kafka, search = (os.environ.get(f"DOCLANE_TEST_{n}") for n in ("KAFKA_BOOTSTRAP", "SEARCH_URL"))
    if not (kafka and search):
        raise SystemExit("needs the test servers: infra/with-infra.sh .venv/bin/python -m bench.distributed")
    lo, hi = (int(x) for x in args.pages.split("-"))
    runs: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="doclane-bench-") as tmp:
        folder = Path(tmp)
        paths = make_corpus(folder, args.docs, lo, hi)
        pages = sum(_pages(p) for p in paths)
        # Unmeasured: a process that finds a model missing for the code at hand (a changed
        # working tree) builds it on first use; let that happen here, not in a measured run.
        run_embedded(paths[:1], folder / "warm-up", 1)
        runs["embedded"] = run_embedded(paths, folder / "embedded", pages)
        for handler in args.backends.split(","):
            runs[f"ferretdb-{handler}"] = run_distributed(paths, folder / f"d-{handler}", pages,
                                                          handler, kafka, search)
    embedded_s = runs["embedded"]["wall_s"]
    embedded_cpu = runs["embedded"]["cpu_ms_per_page_total"]
    for run in runs.values():
        run["pages_per_s"] = round(pages / run["wall_s"], 1)
        run["vs_embedded"] = round(embedded_s / run["wall_s"], 3)
        # What the ratio is when every run has the machine's cores to itself and uses them
        # all: a loaded machine gives several processes more CPU than one, whatever they need.
        run["vs_embedded_by_cpu"] = round(embedded_cpu / run["cpu_ms_per_page_total"], 3)
        run["wall_s"] = round(run["wall_s"], 1)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.python_version()}, {os.cpu_count()} cores, "
                   f"load average before {os.getloadavg()[0]:.1f}",
        "docs": args.docs, "pages": pages,
        "configuration": "local analyzer; search indexing on (default local embeddings + NER) in "
                         "every run; distributed: gateway + 1 extractor, 1 analyzer, 1 indexer, "
                         "1 aggregator; Kafka and PostgreSQL (search) shared test servers",
        "runs": runs,
    }
    _write(result)
    print(json.dumps(result, indent=2))


def _pages(path: Path) -> int:
    import pymupdf
    with pymupdf.open(path) as doc:
        return int(doc.page_count)


_HISTORY = (
    "# Distributed vs embedded throughput (bench/distributed.py)\n\n"
    "Each row is one run of one corpus. *vs embedded* is measured wall time; *by CPU* is "
    "embedded CPU per page / this run's CPU per page, the ratio when each run has the "
    "cores to itself and keeps them busy (a loaded machine gives many processes more "
    "CPU than one). CPU is per process with its children (pools, PostgreSQL backends), "
    "in ms per page, busiest first.\n\n"
    "| when | load | pages | run | pages/s | vs embedded | by CPU | Mongo commands/chunk "
    "| CPU ms/page | CPU ms/page by process |\n"
    "|---|---|---|---|---|---|---|---|---|---|\n"
)


def _write(result: dict[str, Any]) -> None:
    load = result["machine"].rsplit(" ", 1)[-1]

    def row(name: str, run: dict[str, Any]) -> str:
        cpu = ", ".join(f"{k} {v}" for k, v in list(run["cpu_ms_per_page_by_process"].items())[:5])
        return (f"| {result['when']} | {load} | {result['pages']} | {name} | {run['pages_per_s']} "
                f"| {run['vs_embedded']} | {run['vs_embedded_by_cpu']} "
                f"| {run.get('mongo_commands_per_chunk_total', '-')} "
                f"| {run['cpu_ms_per_page_total']} | {cpu} |\n")

    save_results("distributed", result, _HISTORY, (row(n, r) for n, r in result["runs"].items()))

if __name__ == "__main__":
    main()

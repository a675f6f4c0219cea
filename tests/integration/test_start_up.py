"""Starting a deployment: every process at once on new servers, or with a server unreachable."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time

import pytest

from doclane.consumers import STAGES
from doclane.infra.runtime import build_bus, build_store
from doclane.infra.settings import Settings
from tests.utils.api import upload, wait_until_terminal
from tests.utils.documents import make_text, marked_paragraphs
from tests.utils.server import DoclaneProcess, free_port

pytestmark = pytest.mark.timeout(300)


def _start_at_once(processes: list[DoclaneProcess]) -> None:
    """Spawn every process at the same instant, then wait until all are ready."""
    barrier = threading.Barrier(len(processes))
    errors: list[BaseException] = []

    def start(process: DoclaneProcess) -> None:
        barrier.wait()
        try:
            process.start(timeout_s=120)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(p,)) for p in processes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, "\n\n".join(map(str, errors))


@pytest.mark.parametrize("round_", range(3))
async def test_gateway_and_every_worker_started_together_on_fresh_servers(
    make_cluster, alice_on, tmp_path, round_
):
    # cluster_env gives each round its own topic prefix and database: all of them new.
    cluster = make_cluster(DOCLANE_AI_PROVIDER="mock", DOCLANE_MOCK_LATENCY_MS="0")
    # Two of each, whatever stages exist now: more processes racing make a lost race (which
    # crashed a worker before opening was retried) likely in every round.
    workers = [cluster.add_worker(stage, f"{stage}-{n}") for stage in STAGES for n in (1, 2)]
    _start_at_once([cluster.gateway, *workers])

    alice = alice_on(cluster)
    paths = [make_text(tmp_path / f"note-{i}.txt", marked_paragraphs(f"R{round_}N{i}", 3))
             for i in range(3)]
    response = await upload(alice, paths)
    assert response.status_code == 202, response.text
    ids = [r["document"]["id"] for r in response.json()["results"]]
    details = await asyncio.gather(*(wait_until_terminal(alice, i, timeout_s=120) for i in ids))
    assert [d["status"] for d in details] == ["completed"] * len(ids), details


def _deadline_reaches_the_adapters() -> bool:
    """Whether the runtime's factories pass ``connect_deadline_s`` on to the adapters."""
    settings = Settings(kafka_bootstrap="127.0.0.1:1", mongo_url="mongodb://127.0.0.1:1/",
                        connect_deadline_s=1.25)
    adapters = (build_store(settings), build_bus(settings))
    return all(getattr(a, "_connect_deadline_s", None) == 1.25 for a in adapters)


@pytest.mark.parametrize("command", [["worker", "extract"], ["gateway", "--port", "0"]])
def test_a_process_that_cannot_reach_its_servers_exits_with_one_line(command, tmp_path):
    if not _deadline_reaches_the_adapters():
        pytest.skip("doclane.infra.runtime does not pass settings.connect_deadline_s to "
                    "MongoStore/KafkaBus yet")
    closed = f"127.0.0.1:{free_port()}"
    env = {
        "DOCLANE_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}",
        "DOCLANE_MONGO_URL": f"mongodb://doclane:hunter2@{closed}/",
        "DOCLANE_CONNECT_DEADLINE_S": "3",
        "DOCLANE_USERS": "alice:alice-pw:user",
        "DOCLANE_JWT_SECRET": "test-secret-that-is-long-enough-for-hs256-0123456789",
        "DOCLANE_LOG_LEVEL": "WARNING",
    }
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("DOCLANE_", "OPENAI_"))}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "doclane", *command, "--data-dir", str(tmp_path)],
                          env={**inherited, **env}, capture_output=True, text=True, timeout=60, check=False)
    elapsed = time.monotonic() - started
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert elapsed < 30, elapsed
    failure = [line for line in done.stderr.splitlines() if "cannot start" in line]
    assert len(failure) == 1, output
    assert f"MongoDB at {closed}" in failure[0]
    assert "Traceback" not in output
    assert "hunter2" not in output
    assert "waiting for MongoDB" in done.stderr  # the wait was logged


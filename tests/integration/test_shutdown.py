"""Stopping a worker whose broker has gone away, as an orchestrator does after an outage."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest

from tests.utils import infra
from tests.utils.chaos import PrivateInfra
from tests.utils.cluster import cluster_env
from tests.utils.server import WorkerProcess
from tests.utils.waiting import eventually

pytestmark = pytest.mark.timeout(300)

#: The grace the worker is given; compose waits 10 s and Kubernetes 30 s before SIGKILL.
GRACE_S = 5


async def test_a_worker_whose_broker_is_gone_stops_on_sigterm_within_its_grace(tmp_path):
    # Seen after outages: a worker told to stop while its broker was unreachable kept
    # waiting for the broker (to commit and leave its group) for minutes.
    infra.kafka_bootstrap()  # skip (or fail on CI) like the other distributed tests
    broker = await asyncio.to_thread(PrivateInfra().start, ("kafka",))
    worker = WorkerProcess("analyze", tmp_path / "data", cluster_env(
        broker.kafka_bootstrap, infra.mongo_url(), DOCLANE_SHUTDOWN_GRACE_S=str(GRACE_S)))
    try:
        await asyncio.to_thread(worker.start, None, 120)
        await asyncio.to_thread(broker.stop)  # the broker goes away and stays away
        # Stopped once the worker has given the broker up (the state seen after outages).
        await eventually(lambda: "Marking the coordinator dead" in worker.log_text(), timeout_s=60,
                         what="the worker giving its broker up")
        started = time.monotonic()
        code = await asyncio.to_thread(worker.signal_and_wait, signal.SIGTERM, GRACE_S + 40)
        elapsed = time.monotonic() - started
        log = worker.log_text()
        assert code == 0, log
        assert elapsed < GRACE_S + 20, (elapsed, log)  # its grace, plus closing the rest
        if elapsed >= GRACE_S:  # it waited out its grace for the broker: it says what it left
            assert "redelivered" in log.split("Marking the coordinator dead", 1)[1], log
    finally:
        worker.kill()
        await asyncio.to_thread(broker.stop)

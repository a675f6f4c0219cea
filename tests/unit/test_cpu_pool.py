"""The parsing pool survives a worker that dies."""

from __future__ import annotations

import os

import pytest

from doclane.infra.cpu import CpuPool, WorkerCrashed


async def test_a_dead_worker_is_a_retryable_error_and_the_pool_heals():
    pool = CpuPool(workers=1)
    try:
        assert await pool.run(pow, 2, 10) == 1024
        with pytest.raises(WorkerCrashed) as crashed:
            await pool.run(os._exit, 3)  # the worker process dies abruptly
        assert crashed.value.retryable
        assert "upload it again" in crashed.value.reason
        assert await pool.run(pow, 3, 3) == 27  # a fresh pool took over
    finally:
        pool.shutdown()

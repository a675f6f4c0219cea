"""Private Kafka and FerretDB instances that a chaos test may restart (infra/*.sh instances).

The shared servers of the test run are used by every other test (and by other people's
runs on the machine): a test that restarts a broker or a database starts its own, on
free ports, with its own data, and removes it afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import uuid
from pathlib import Path

from tests.utils.server import free_port

__all__ = ["PrivateInfra"]

_INFRA = Path(__file__).resolve().parents[2] / "infra"


class PrivateInfra:
    """One Kafka broker and one FerretDB of its own; ``restart`` either one mid-test."""

    def __init__(self) -> None:
        self.instance = f"chaos-{uuid.uuid4().hex[:8]}"
        self.env = {
            **os.environ,
            "DOCLANE_INFRA_INSTANCE": self.instance,
            "DOCLANE_KAFKA_PORT": str(free_port()),
            "DOCLANE_KAFKA_CONTROLLER_PORT": str(free_port()),
            "DOCLANE_MONGO_PORT": str(free_port()),
            "DOCLANE_KAFKA_HEAP": "-Xms128m -Xmx384m",
        }
        cache = Path(os.environ.get("DOCLANE_CACHE_DIR", Path.home() / ".cache" / "doclane"))
        self.root = cache / "instances" / self.instance

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.env['DOCLANE_KAFKA_PORT']}"

    @property
    def mongo_url(self) -> str:
        return f"mongodb://127.0.0.1:{self.env['DOCLANE_MONGO_PORT']}/"

    def _run(self, service: str, *args: str) -> None:
        subprocess.run([str(_INFRA / f"{service}.sh"), *args], env=self.env, check=True,
                       capture_output=True, timeout=180)

    def start(self, services: tuple[str, ...] = ("kafka", "ferretdb")) -> PrivateInfra:
        for service in services:
            self._run(service, "start")
        return self

    def restart(self, service: str) -> None:
        """Stop (SIGTERM) and start again on the same data: what an operator's restart does."""
        self._run(service, "stop")
        self._run(service, "start")

    def stop(self) -> None:
        for service in ("kafka", "ferretdb"):
            with contextlib.suppress(subprocess.CalledProcessError):  # gone: its data goes below
                self._run(service, "stop")
        shutil.rmtree(self.root, ignore_errors=True)

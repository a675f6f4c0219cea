"""A real doclane server in its own OS process, on a free port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

__all__ = ["ServerProcess", "free_port"]

USERS = "alice:alice-pw:user,bob:bob-pw:user,root:root-pw:admin"
JWT_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """``doclane serve`` as a child process; restartable on the same data directory."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            "DOCLANE_USERS": USERS,
            "DOCLANE_JWT_SECRET": JWT_SECRET,
            "DOCLANE_LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = data_dir.parent / f"{data_dir.name}-server.log"

    def start(self, env: dict[str, str] | None = None, timeout_s: float = 60) -> ServerProcess:
        if env is not None:
            self.env.update(env)
        log = self._log.open("ab")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "doclane", "serve", "--port", str(self.port),
             "--data-dir", str(self.data_dir)],
            env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"server exited early; log:\n{self.log_text()}")
            try:
                if httpx.get(f"{self.url}/ready", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"server did not become ready; log:\n{self.log_text()}")

    def log_text(self) -> str:
        return self._log.read_text(errors="replace") if self._log.exists() else ""

    def stop(self) -> None:
        """Graceful stop (SIGTERM), as an operator would."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """A crash: SIGKILL, nothing gets to clean up."""
        self._end(signal.SIGKILL)

    def _end(self, sig: int) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        try:
            os.killpg(self._proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(timeout=10)

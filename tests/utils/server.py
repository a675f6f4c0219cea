"""A real doclane server in its own OS process, on a free port."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

__all__ = ["DoclaneProcess", "ServerProcess", "WorkerProcess", "free_port"]

USERS = "alice:alice-pw:user,bob:bob-pw:user,root:root-pw:admin"
JWT_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"


def _inherited_env() -> dict[str, str]:
    """The test run's environment, minus a developer's OpenAI settings: a test names its provider."""
    return {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}


def _listens(pid: int, port: int) -> bool:
    """Whether process ``pid`` holds the listening TCP socket on ``port`` (Linux /proc).

    A port from :func:`free_port` is free only when asked: a server of another test
    may take it before this one binds it. Its ``/ready`` would answer for ours, and
    ours would exit on "address in use" unnoticed.
    """
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # LISTEN
                    inodes.add(f"socket:[{fields[9]}]")
    with contextlib.suppress(FileNotFoundError, PermissionError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    return True
    return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DoclaneProcess:
    """A ``doclane`` subcommand as a child process, restartable with the same settings."""

    #: The module run as ``python -m``: a bench may run doclane through a wrapper of its own.
    module = "doclane"

    def __init__(self, args: list[str], data_dir: Path, env: dict[str, str] | None = None,
                 name: str | None = None) -> None:
        self.args = args
        self.data_dir = data_dir
        self.env = {
            "DOCLANE_USERS": USERS,
            "DOCLANE_JWT_SECRET": JWT_SECRET,
            "DOCLANE_LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = data_dir.parent / f"{name or data_dir.name}-{args[0]}.log"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _is_ready(self) -> bool:
        raise NotImplementedError

    def start(self, env: dict[str, str] | None = None, timeout_s: float = 60) -> DoclaneProcess:
        self.launch(env)
        return self.wait_ready(timeout_s)

    def launch(self, env: dict[str, str] | None = None) -> None:
        """Start the process without waiting for it: several load their models at once."""
        if env is not None:
            self.env.update(env)
        self._log.parent.mkdir(parents=True, exist_ok=True)
        log = self._log.open("ab")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", self.module, *self.args, "--data-dir", str(self.data_dir)],
            env={**_inherited_env(), **self.env}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout_s: float = 60) -> DoclaneProcess:
        assert self._proc is not None, "launch() first"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"{self.args} exited early; log:\n{self.log_text()}")
            if self._is_ready():
                return self
            time.sleep(0.05)
        self.kill()  # a fixture that fails to start must not leave a server running
        raise TimeoutError(f"{self.args} did not become ready; log:\n{self.log_text()}")

    def __enter__(self) -> DoclaneProcess:
        """``with ServerProcess(...) as proc:``: started, and stopped however the block ends."""
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def log_text(self) -> str:
        return self._log.read_text(errors="replace") if self._log.exists() else ""

    def stop(self) -> None:
        """Graceful stop (SIGTERM), as an operator would."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """A crash: SIGKILL, nothing gets to clean up."""
        self._end(signal.SIGKILL)

    def signal_and_wait(self, sig: int, timeout_s: float) -> int:
        """Send ``sig`` to the process group and wait for it to exit on its own; its return
        code (``subprocess.TimeoutExpired`` if it is still running after ``timeout_s``)."""
        assert self._proc is not None, "not started"
        os.killpg(self._proc.pid, sig)
        return self._proc.wait(timeout=timeout_s)

    def _end(self, sig: int) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        try:
            self.signal_and_wait(sig, timeout_s=30)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(timeout=10)


class ServerProcess(DoclaneProcess):
    """``doclane serve`` (or ``gateway``) on a free port; ready when ``/ready`` answers."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None,
                 command: str = "serve") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__([command, "--port", str(self.port)], data_dir, env,
                         name=f"{data_dir.name}-server" if command == "serve" else None)

    def start(self, env: dict[str, str] | None = None, timeout_s: float = 60) -> DoclaneProcess:
        """Start; on a free port that another process took first, start again on a new one."""
        for _ in range(2):
            try:
                return super().start(env, timeout_s)
            except RuntimeError as exc:
                if "address already in use" not in str(exc):
                    raise
                self.port = free_port()
                self.url = f"http://127.0.0.1:{self.port}"
                self.args[self.args.index("--port") + 1] = str(self.port)
        return super().start(env, timeout_s)

    def _is_ready(self) -> bool:
        try:
            answered = httpx.get(f"{self.url}/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False
        # The answer must come from this process, not from another test's server on the port.
        return answered and self.pid is not None and _listens(self.pid, self.port)


class WorkerProcess(DoclaneProcess):
    """``doclane worker STAGE``; ready when it logs that its group member runs."""

    def __init__(self, stage: str, data_dir: Path, env: dict[str, str] | None = None,
                 name: str | None = None) -> None:
        super().__init__(["worker", stage], data_dir, {**(env or {}), "DOCLANE_LOG_LEVEL": "INFO"},
                         name=name or stage)
        self._ready_line = f"worker {stage} ready"
        self._seen = 0

    def launch(self, env: dict[str, str] | None = None) -> None:
        self._seen = len(self.log_text())
        super().launch(env)

    def _is_ready(self) -> bool:
        return self._ready_line in self.log_text()[self._seen:]

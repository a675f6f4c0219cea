"""One real server per test module, and clients logged in as alice and bob."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.utils.api import auth, login
from tests.utils.fake_openai import FakeOpenAI
from tests.utils.server import ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("server") / "data",
                         env={"DOCLANE_HEARTBEAT_S": "1", "DOCLANE_QUEUE_METRICS_S": "0.5"})
    with proc:
        yield proc


@pytest.fixture(scope="module")
def alice_token(server: ServerProcess) -> str:
    return login(server.url, "alice", "alice-pw")


@pytest.fixture(scope="module")
def bob_token(server: ServerProcess) -> str:
    return login(server.url, "bob", "bob-pw")


@pytest.fixture
async def alice(server: ServerProcess, alice_token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, headers=auth(alice_token), timeout=60) as c:
        yield c


@pytest.fixture
async def bob(server: ServerProcess, bob_token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, headers=auth(bob_token), timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    """An OpenAI-compatible server for the module (a module may override it with its own rules)."""
    with FakeOpenAI() as server:
        yield server

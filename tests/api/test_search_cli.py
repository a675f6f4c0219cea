"""``doclane search``, run as a user runs it, against a real server with real documents."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.utils.api import auth, login, upload, wait_until_terminal
from tests.utils.documents import make_docx
from tests.utils.server import ServerProcess

pytestmark = pytest.mark.timeout(300)
_DOCLANE = Path(sys.executable).parent / "doclane"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("search-cli") / "data") as proc:
        yield proc


def _search(server: ServerProcess, tmp_path: Path, *args: str,
            password: str = "alice-pw") -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DOCLANE_", "OPENAI_"))}
    return subprocess.run(
        [str(_DOCLANE), "search", *args], capture_output=True, text=True, timeout=110, check=False,
        env={**base, "XDG_CONFIG_HOME": str(tmp_path / "config"), "COLUMNS": "200",
             "DOCLANE_URL": server.url, "DOCLANE_USERNAME": "alice", "DOCLANE_PASSWORD": password})


async def test_search_prints_each_passage_with_its_document_section_and_page(
    server: ServerProcess, tmp_path: Path
) -> None:
    path = make_docx(tmp_path / "handbook.docx", [
        ("h1", "Staff handbook"),
        ("p", "Everyone gets a welcome pack on their first morning."),
        ("pagebreak", None),
        ("h2", "Pay"),
        ("p", "Salaries are paid on the last working day of each month by bank transfer."),
    ])
    async with httpx.AsyncClient(base_url=server.url, timeout=60,
                                 headers=auth(login(server.url, "alice", "alice-pw"))) as alice:
        doc_id = (await upload(alice, [path])).json()["results"][0]["document"]["id"]
        assert (await wait_until_terminal(alice, doc_id))["status"] == "completed"

    found = _search(server, tmp_path, "how are the salaries paid", "-k", "1")
    assert found.returncode == 0, found.stderr
    lines = [line.strip() for line in found.stdout.splitlines() if line.strip()]
    assert lines[0].startswith("1 passage(s) for how are the salaries paid (hybrid")
    assert lines[1].startswith("1. handbook.docx  Staff handbook > Pay  p. 2  score ")
    assert lines[2] == "Salaries are paid on the last working day of each month by bank transfer."

    keyword = _search(server, tmp_path, "welcome pack", "--mode", "keyword")
    assert keyword.returncode == 0, keyword.stderr
    assert "(keyword" in keyword.stdout and "Staff handbook  p. 1" in keyword.stdout

    nothing = _search(server, tmp_path, "zeppelin", "--mode", "keyword")
    assert nothing.returncode == 1 and nothing.stdout.startswith("0 passage(s) for zeppelin")

    refused = _search(server, tmp_path, "pay", password="wrong")
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr

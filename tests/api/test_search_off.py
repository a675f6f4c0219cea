"""A deployment that indexes nothing (``DOCLANE_SEARCH_ENABLED=false``) still completes
every document, including one whose identical content was analysed before."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.utils.api import upload, wait_until_terminal
from tests.utils.documents import make_text, marked_paragraphs
from tests.utils.server import ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("no-search") / "data",
                         env={"DOCLANE_SEARCH_ENABLED": "false", "DOCLANE_CHUNK_MAX_CHARS": "600",
                              "DOCLANE_CHUNK_OVERLAP_CHARS": "0"})
    with proc:
        yield proc


async def test_identical_content_completes_from_the_cache_without_an_index(alice, tmp_path):
    text = marked_paragraphs("SAMECONTENT", 8)
    first = make_text(tmp_path / "first.txt", text)
    first_id = (await upload(alice, [first])).json()["results"][0]["document"]["id"]
    done = await wait_until_terminal(alice, first_id)
    assert done["status"] == "completed"
    again = make_text(tmp_path / "again.txt", text)
    doc_id = (await upload(alice, [again])).json()["results"][0]["document"]["id"]
    detail = await wait_until_terminal(alice, doc_id, timeout_s=60)
    assert detail["status"] == "completed", detail["status"]
    assert detail["analysis"]["summary"] == done["analysis"]["summary"]
    search = await alice.get("/search", params={"q": "anything"})
    assert search.status_code == 503

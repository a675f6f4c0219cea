"""A corpus of hostile files (tests/utils/hostile.py) uploaded through the API: each one has
the outcome it must have, with a reason a person understands, and none of them hurts the
server or a valid file sent beside it."""

from __future__ import annotations

import pytest

from tests.utils.api import wait_until_terminal
from tests.utils.documents import make_text
from tests.utils.hostile import CORPUS, HostileCase

pytestmark = pytest.mark.timeout(300)


@pytest.mark.parametrize("case", CORPUS, ids=lambda c: c.name.encode("ascii", "replace").decode()[:40])
async def test_a_hostile_file_has_its_outcome_and_spares_its_sibling(alice, tmp_path, case: HostileCase):
    path = case.make(tmp_path / "hostile.bin")
    good = make_text(tmp_path / "sibling.txt", "A plain note that must be processed whatever comes with it.")
    files = [("files", (case.name, path.read_bytes())), ("files", (good.name, good.read_bytes()))]
    r = await alice.post("/documents/upload", files=files)
    assert r.status_code == 202, r.text
    hostile, sibling = r.json()["results"]
    assert sibling["accepted"]
    if case.outcome == "refused":
        assert not hostile["accepted"], hostile
        assert case.status_code is None or hostile["status_code"] == case.status_code, hostile
        text = hostile["detail"]
    else:
        assert hostile["accepted"], hostile
        # (The name is shown as sent; the stored file's path is made safe: test_invalid_input.)
        detail = await wait_until_terminal(alice, hostile["document"]["id"], timeout_s=120)
        assert detail["status"] == case.outcome, (detail["status"], detail.get("error"))
        text = detail.get("error") or ""
        if case.outcome == "failed":
            assert text.endswith(".") and "Traceback" not in text and "Error(" not in text, text
    for word in case.words:
        assert word in text, (word, text)
    assert (await wait_until_terminal(alice, sibling["document"]["id"]))["status"] == "completed"
    assert (await alice.get("/health")).status_code == 200

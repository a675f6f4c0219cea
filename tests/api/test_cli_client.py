"""The ``doclane`` client commands, run as a user runs them, against a real server."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.utils.documents import make_image_only_pdf
from tests.utils.server import USERS, ServerProcess, free_port

#: Each test waits on real documents going through a real pipeline, on a machine others share.
pytestmark = pytest.mark.timeout(300)
_DOCLANE = Path(sys.executable).parent / "doclane"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("cli") / "data",
                         env={"DOCLANE_SEARCH_ENABLED": "false",
                              "DOCLANE_USERS": f"{USERS},demo:demo-pw:user"})
    with proc:
        yield proc


@pytest.fixture
def config_home(tmp_path: Path) -> Path:
    """The user's config directory, where `doclane login` keeps its token: one per test."""
    home = tmp_path / "config"
    home.mkdir()
    return home


def _run(server: ServerProcess | None, config_home: Path, *args: str, url: str | None = None,
         cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DOCLANE_", "OPENAI_"))}
    return subprocess.run(
        [str(_DOCLANE), *args], capture_output=True, text=True, timeout=110, check=False, cwd=cwd,
        env={**base, "XDG_CONFIG_HOME": str(config_home), "COLUMNS": "200",
             "DOCLANE_URL": url or (server.url if server else ""), **env})


def _token_file(config_home: Path) -> Path:
    return config_home / "doclane" / "tokens.json"


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def _text(path: Path, words: str) -> Path:
    line = "The team agreed the budget. Alice will send the report by Friday.\n"
    path.write_text(f"{words}\n\n" + line * 20)
    return path


async def test_login_keeps_a_private_token_that_the_other_commands_use(server, config_home):
    login = _run(server, config_home, "login", "--user", "alice", "--password", "alice-pw")
    assert login.returncode == 0, login.stderr
    assert "Logged in" in login.stdout and "alice" in login.stdout
    saved = _token_file(config_home)
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert json.loads(saved.read_text())[server.url]["user"] == "alice"
    listing = _run(server, config_home, "ls")  # no credentials given: the saved token
    assert listing.returncode == 0, listing.stderr
    assert "No documents" in listing.stdout


async def test_without_credentials_the_data_directorys_demo_login_is_used(server, config_home, tmp_path):
    """``make run`` keeps the demo password in its data directory; a client started elsewhere
    finds it through ``--data-dir`` or, like the server, ``DOCLANE_DATA_DIR``."""
    data = tmp_path / "service-data"
    data.mkdir()
    (data / ".demo_password").write_text("demo-pw\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    by_option = _run(server, config_home, "ls", "--data-dir", str(data), cwd=elsewhere)
    by_env = _run(server, config_home, "ls", cwd=elsewhere, DOCLANE_DATA_DIR=str(data))
    for listing in (by_option, by_env):
        assert listing.returncode == 0, listing.stderr
        assert "No documents" in listing.stdout
    nowhere = _run(server, config_home, "ls", cwd=elsewhere)
    assert "No credentials" in _one_error_line(nowhere)


async def test_upload_follow_shows_every_file_to_its_end_and_fails_if_one_did(server, config_home, tmp_path):
    env = {"DOCLANE_USERNAME": "bob", "DOCLANE_PASSWORD": "bob-pw"}
    good = _text(tmp_path / "minutes.txt", "Board meeting minutes, March.")
    image_only = make_image_only_pdf(tmp_path / "scan.pdf")
    junk = tmp_path / "tool.bin"
    junk.write_bytes(bytes(range(256)) * 8)
    result = _run(server, config_home, "upload", str(good), str(image_only), str(junk),
                  "--priority", "high", "--follow", **env)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "1 completed, 1 failed, 1 refused." in result.stdout
    assert "minutes.txt" in result.stdout and "scan.pdf" in result.stdout  # a bar per file
    assert "refused tool.bin:" in result.stderr and "Upload a Word" in result.stderr
    failed = next(line for line in result.stderr.splitlines() if line.startswith("failed scan.pdf:"))
    assert "image" in failed.lower()  # the reason the pipeline gave

    fine = _run(server, config_home, "upload", str(_text(tmp_path / "notes.txt", "Plain notes.")),
                "--follow", **env)
    assert fine.returncode == 0, (fine.stdout, fine.stderr)
    assert "1 completed, 0 failed, 0 refused." in fine.stdout


async def test_big_files_go_through_the_resumable_endpoint(server, config_home, tmp_path):
    env = {"DOCLANE_USERNAME": "bob", "DOCLANE_PASSWORD": "bob-pw"}
    big = tmp_path / "annual report.txt"
    big.write_text("".join(f"Section {i}: the division met {i % 9} of its goals.\n" for i in range(6000)))
    junk = tmp_path / "firmware.img"
    junk.write_bytes(bytes(range(256)) * 800)
    result = _run(server, config_home, "upload", str(big), str(junk), "--resumable-over-mb", "0.1",
                  "--follow", **env)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "1 completed, 0 failed, 1 refused." in result.stdout
    assert "refused firmware.img:" in result.stderr and "Upload a Word" in result.stderr
    # It went through tus: the finished upload's record names the document it became.
    records = [json.loads(p.read_text()) for p in (server.data_dir / "uploads" / ".tus").glob("*/*.json")]
    assert [r["filename"] for r in records if r["document_id"]] == [big.name]


async def test_status_ls_and_show_describe_your_documents(server, config_home, tmp_path):
    env = {"DOCLANE_USERNAME": "alice", "DOCLANE_PASSWORD": "alice-pw"}
    path = _text(tmp_path / "budget memo.txt", "Budget memo for the platform team.")
    uploaded = _run(server, config_home, "upload", str(path), **env)
    assert uploaded.returncode == 0, uploaded.stderr
    document_id = uploaded.stdout.split()[0]
    deadline = time.monotonic() + 90
    while "completed" not in (status := _run(server, config_home, "status", document_id, **env)).stdout:
        assert status.returncode == 0, status.stderr
        assert time.monotonic() < deadline, status.stdout
    assert status.stdout.startswith(document_id)
    summary = _run(server, config_home, "status", **env)
    assert summary.returncode == 0 and "completed" in summary.stdout
    listing = _run(server, config_home, "ls", "--status", "completed", **env)
    assert listing.returncode == 0 and "budget memo.txt" in listing.stdout and document_id in listing.stdout
    assert "No documents with status failed." in _run(server, config_home, "ls", "--status", "failed",
                                                      **env).stdout
    shown = _run(server, config_home, "show", document_id, **env)
    assert shown.returncode == 0, shown.stderr
    for heading in ("budget memo.txt", "Summary", "Topics", "Sentiment", "Action items"):
        assert heading in shown.stdout, shown.stdout
    assert "Alice" in shown.stdout  # the action item the text gives her, or the person entity


async def test_errors_are_one_clear_line_and_a_failing_exit_code(server, config_home, tmp_path):
    down = _run(None, config_home, "ls", url=f"http://127.0.0.1:{free_port()}",
                DOCLANE_USERNAME="alice", DOCLANE_PASSWORD="alice-pw")
    assert "Could not reach doclane" in _one_error_line(down)
    wrong = _run(server, config_home, "ls", DOCLANE_USERNAME="alice", DOCLANE_PASSWORD="nope")
    assert "401" in _one_error_line(wrong)
    alice = {"DOCLANE_USERNAME": "alice", "DOCLANE_PASSWORD": "alice-pw"}
    missing = _run(server, config_home, "show", "0" * 32, **alice)
    assert "404" in _one_error_line(missing) and "No document" in missing.stderr
    no_file = _run(server, config_home, "upload", str(tmp_path / "nope.pdf"), **alice)
    assert "nope.pdf: no such file" in _one_error_line(no_file)
    note = _text(tmp_path / "note.txt", "x")
    for size in ("nan", "1e400", "-5"):  # not a size: refused, saying which option
        odd = _run(server, config_home, "upload", str(note), "--resumable-over-mb", size, **alice)
        assert odd.returncode == 2, (size, odd.stdout, odd.stderr)
        assert "--resumable-over-mb" in odd.stderr and "Traceback" not in odd.stderr, odd.stderr
    # A saved token the gateway no longer accepts says what to do.
    _token_file(config_home).parent.mkdir(parents=True)
    _token_file(config_home).write_text(json.dumps(
        {server.url: {"user": "alice", "token": "not-a-token", "expires_at": time.time() + 600}}))
    stale = _run(server, config_home, "ls")
    assert "run `doclane login`" in _one_error_line(stale)


async def test_admin_queues_is_a_table_for_admins_only(server, config_home):
    root = {"DOCLANE_USERNAME": "root", "DOCLANE_PASSWORD": "root-pw"}
    queues = _run(server, config_home, "admin", "queues", **root)
    assert queues.returncode == 0, queues.stderr
    assert "Queues (embedded)" in queues.stdout
    for word in ("extractor", "analyzer", "chunk.ready", "depth", "lag"):
        assert word in queues.stdout, queues.stdout
    alice = {"DOCLANE_USERNAME": "alice", "DOCLANE_PASSWORD": "alice-pw"}
    refused = _run(server, config_home, "admin", "queues", **alice)
    assert "403" in _one_error_line(refused)

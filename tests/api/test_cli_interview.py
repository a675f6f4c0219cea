"""``doclane interview`` as a candidate runs it: files in, answers typed, the report out."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.api.test_interviews import DATA, GOOD_ANSWER

_DOCLANE = Path(sys.executable).parent / "doclane"


def _interview(server, tmp_path: Path, answers: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DOCLANE_", "OPENAI_"))}
    return subprocess.run(
        [str(_DOCLANE), "interview", str(DATA / "backend-engineer-jd.md"), str(DATA / "maria-resume.txt"),
         "--max-questions", "2", *args],
        input="".join(a + "\n" for a in answers), capture_output=True, text=True, timeout=110, check=False,
        env={**base, "XDG_CONFIG_HOME": str(tmp_path), "COLUMNS": "200", "DOCLANE_URL": server.url,
             "DOCLANE_USERNAME": "alice", "DOCLANE_PASSWORD": "alice-pw"})


def test_an_interview_held_from_the_terminal_ends_with_its_report(server, tmp_path):
    answers = ["Yes, ready.", GOOD_ANSWER, "", GOOD_ANSWER + " I also ran Kafka consumers on Kubernetes.",
               "/skip", "No questions, thank you."]
    result = _interview(server, tmp_path, answers)
    assert result.returncode == 0, (result.stdout, result.stderr)
    out = result.stdout
    assert "Uploaded backend-engineer-jd.md" in out and "Uploaded maria-resume.txt" in out
    assert "interviewer: Hello Maria" in out
    assert "Walk me through" in out or "Tell me" in out or "This role" in out  # a planned question
    assert "Report (local" in out and "relevance" in out and "python" in out.lower()


def test_an_interview_left_early_still_gets_its_report(server, tmp_path):
    result = _interview(server, tmp_path, ["Yes, ready."])  # then end of input
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "Report (local" in result.stdout


def test_an_unknown_document_is_one_line_and_exit_2(server, tmp_path):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DOCLANE_", "OPENAI_"))}
    result = subprocess.run(
        [str(_DOCLANE), "interview", "no-such-id", "nor-this"], capture_output=True, text=True, timeout=60,
        check=False, env={**base, "XDG_CONFIG_HOME": str(tmp_path), "DOCLANE_URL": server.url,
                          "DOCLANE_USERNAME": "alice", "DOCLANE_PASSWORD": "alice-pw"})
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1 and "404" in result.stderr

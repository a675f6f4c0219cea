"""``doclane interview JD RESUME``: hold an interview from a terminal, then read its report.

JD and RESUME are files (uploaded and processed first) or ids of processed documents.
The interviewer's replies stream in as they are spoken; each line typed is one answer
(an empty line repeats the question, ``/skip`` skips it, end of input ends the interview).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
import websockets
from rich.console import Console
from rich.table import Table

from doclane.cli_client import DataOpt, GatewaySession, PasswordOpt, Target, TokenOpt, UrlOpt, UserOpt, fail

__all__ = ["interview"]

_out = Console(soft_wrap=True, highlight=False)
_PROCESS_TIMEOUT_S = 300


def _document(session: GatewaySession, given: str) -> str:
    """The id of ``given``: a processed document's id, or a file uploaded and processed now."""
    path = Path(given)
    if not path.is_file():
        return given
    with session.errors(), path.open("rb") as handle:
        answer = session.client.answer(session.client.request(
            "POST", "/documents/upload", files=[("files", (path.name, handle))]))
    result = answer["results"][0]
    if result.get("error"):
        fail(f"{path.name}: {result['error']}")
    doc_id = str(result["document"]["id"])
    _out.print(f"Uploaded {path.name} ({doc_id}); processing…")
    deadline = time.monotonic() + _PROCESS_TIMEOUT_S
    while time.monotonic() < deadline:
        status = session.get(f"/documents/{doc_id}/status")
        if status["status"] == "failed":
            fail(f"{path.name} failed: {status.get('error') or 'no reason given'}", 1)
        if status["status"] == "completed":
            return doc_id
        time.sleep(0.3)
    return fail(f"{path.name} was still processing after {_PROCESS_TIMEOUT_S} s.")


async def _talk(ws_url: str, token: str) -> None:
    async with websockets.connect(ws_url) as ws:
        await ws.send(json.dumps({"token": token}))
        turn = 0
        speaking: str | None = None
        while True:
            message = json.loads(await ws.recv())
            kind = message["type"]
            if kind == "reply.start":
                speaking = message["reply_id"]
                _out.print("[bold cyan]interviewer:[/bold cyan] ", end="")
            elif kind == "reply.delta" and message["reply_id"] == speaking:
                _out.print(message["text"], end="", markup=False)
            elif kind == "reply.discard":
                _out.print(" [dim](withdrawn)[/dim]")
            elif kind == "reply.end":
                _out.print()
            elif kind == "error":
                _out.print(f"[red]{message['detail']}[/red]")
            elif kind == "state" and message["state"] == "ended":
                return
            elif kind == "state" and message["state"] == "listening":
                line = await asyncio.to_thread(sys.stdin.readline)
                turn += 1
                if not line:  # end of input: the candidate leaves
                    return
                text = line.strip()
                if text == "/skip":
                    await ws.send(json.dumps({"type": "control", "action": "skip"}))
                elif not text:
                    await ws.send(json.dumps({"type": "control", "action": "repeat"}))
                else:
                    await ws.send(json.dumps({"type": "input.end", "turn_id": f"cli-{turn}", "rev": 1,
                                              "text": text}))


def _print_report(report: dict[str, Any]) -> None:
    _out.print(f"\n[bold]Report[/bold] ({report['provider']}, {report['rubric_version']}): "
               f"[bold]{report['recommendation']}[/bold], overall {report['overall']:.1f}/5")
    rubric = Table("criterion", "score", "why", "evidence")
    for score in report["rubric"]:
        quote = score["evidence"][0]["text"] if score["evidence"] else ""
        rubric.add_row(score["criterion"], f"{score['score']:.1f}", score["reason"],
                       (quote[:60] + "…") if len(quote) > 60 else quote)
    _out.print(rubric)
    skills = Table("skill", "required", "asked", "answered", "shown")
    for skill in report["skills"]:
        skills.add_row(skill["name"], *("yes" if skill[k] else "" for k in ("required", "asked", "answered",
                                                                           "shown")))
    _out.print(skills)
    for title, items in (("Strengths", report["strengths"]), ("Gaps", report["gaps"])):
        if items:
            _out.print(f"[bold]{title}[/bold]")
            for item in items:
                _out.print(f"  - {item}", markup=False)


def interview(
    job_description: Annotated[str, typer.Argument(help="The job description: a file or a document id.")],
    resume: Annotated[str, typer.Argument(help="The resume: a file or a document id.")],
    max_questions: Annotated[int, typer.Option(min=1, max=20, help="Questions in the plan.")] = 5,
    provider: Annotated[str | None, typer.Option(help="local, mock or openai (default: the server's).")
                        ] = None,
    url: UrlOpt = None, user: UserOpt = None, password: PasswordOpt = None, token: TokenOpt = None,
    data_dir: DataOpt = Path("data"),
) -> None:
    """Hold an interview for a job with a resume, then print the report."""
    session = GatewaySession(Target(url, user, password, token, data_dir))
    jd_id, resume_id = _document(session, job_description), _document(session, resume)
    body: dict[str, Any] = {"job_description_id": jd_id, "resume_id": resume_id,
                            "max_questions": max_questions}
    if provider:
        body["provider"] = provider
    with session.errors():
        created = session.client.answer(session.client.request("POST", "/interviews", json=body))
        bearer = session.client.token()
    _out.print(f"Interview {created['id']}: {len(created['plan'])} questions, fit score "
               f"{created['fit_score']:.0f}. Type each answer on one line; an empty line repeats the "
               "question, /skip skips it, Ctrl-D ends.")
    ws_url = session.url.replace("http", "ws", 1) + f"/interviews/{created['id']}/ws"
    try:
        asyncio.run(_talk(ws_url, bearer))
    except (OSError, websockets.WebSocketException) as exc:
        fail(f"The interview connection failed: {exc}")
    with session.errors():
        ended = session.client.answer(session.client.request("POST", f"/interviews/{created['id']}/end"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            response = session.client.request("GET", f"/interviews/{ended['id']}/report")
            if response.status_code == 200:
                _print_report(response.json())
                return
            time.sleep(0.2)
    fail("The report was not ready after 30 s; read it later at GET /interviews/{id}/report.")

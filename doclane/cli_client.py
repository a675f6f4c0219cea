"""``doclane login | upload | status | ls | show | admin queues``: a running gateway, from a terminal.

The gateway is ``--url``, else ``$DOCLANE_URL``, else ``http://127.0.0.1:8000``. Credentials:
``--token``/``$DOCLANE_TOKEN``, else ``--user``/``--password`` (``$DOCLANE_USERNAME``/
``$DOCLANE_PASSWORD``), else the token ``doclane login`` saved for that gateway (in the
user's config directory, readable by the user alone), else the ``demo`` user of ``make run``.
Every error is one line on stderr and exit code 2; a document that failed is exit code 1.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TaskProgressColumn, TextColumn
from rich.table import Table

from doclane.client import ClientError, GatewayClient, default_url
from doclane.client_tus import upload_resumable

__all__ = ["GatewaySession", "Target", "fail", "register_client_commands", "token_file"]

_PANEL = "Client (talks to a running gateway)"
#: Piped output gets room for whole rows (rich assumes 80 columns when it is not a terminal).
_out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", 160)))
_err = Console(stderr=True, soft_wrap=True)

UrlOpt = Annotated[str | None, typer.Option(help="The gateway (default $DOCLANE_URL or http://127.0.0.1:8000).")]
UserOpt = Annotated[str | None, typer.Option("--user", "-u", help="User name (default $DOCLANE_USERNAME).")]
PasswordOpt = Annotated[str | None, typer.Option(help="Password (default $DOCLANE_PASSWORD).")]
TokenOpt = Annotated[str | None, typer.Option(
    help="A token from POST /auth/login (default $DOCLANE_TOKEN, else the one `doclane login` saved).")]
DataOpt = Annotated[Path, typer.Option(envvar="DOCLANE_DATA_DIR",
                                      help="Data directory of `make run` (for its demo login).")]

_UPLOAD_BATCH = 50
_TUS_CHUNK_BYTES = 8 << 20
_TERMINAL = {"completed", "failed"}
_RECONNECTS = 5


def token_file() -> Path:
    """Where ``doclane login`` keeps its tokens, one per gateway."""
    return Path(typer.get_app_dir("doclane")) / "tokens.json"


def _saved_tokens() -> dict[str, Any]:
    try:
        data = json.loads(token_file().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save_token(url: str, user: str, token: str, expires_in: int) -> Path:
    path = token_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tokens = _saved_tokens()
    tokens[url] = {"user": user, "token": token, "expires_at": time.time() + expires_in}
    # Created 0600 (and made so if it existed): a token is as good as the password for an hour.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(tokens, out, indent=1)
    return path


def fail(message: str, code: int = 2) -> NoReturn:
    _err.print(f"[red]error:[/red] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


@dataclass
class Target:
    url: str | None
    user: str | None
    password: str | None
    token: str | None
    data_dir: Path = Path("data")


class GatewaySession:
    """A client of the target gateway, and whether it uses a token saved by ``doclane login``."""

    def __init__(self, target: Target) -> None:
        self.url = (target.url or default_url()).rstrip("/")
        token = target.token or os.environ.get("DOCLANE_TOKEN")
        user = target.user or os.environ.get("DOCLANE_USERNAME")
        password = target.password or os.environ.get("DOCLANE_PASSWORD")
        self.saved = False
        if token is None and (user is None or password is None):
            entry = _saved_tokens().get(self.url)
            if isinstance(entry, dict) and entry.get("expires_at", 0) > time.time() + 5:
                token, self.saved = str(entry["token"]), True
        self.client = GatewayClient(self.url, token=token, username=user, password=password,
                                    data_dir=target.data_dir)

    def get(self, path: str, **params: Any) -> Any:
        with self.errors():
            return self.client.get(path, **params)

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Any failure to talk to the gateway becomes one line and exit code 2."""
        try:
            yield
        except httpx.HTTPError as exc:
            fail(self.client.request_error(exc).reason)
        except ClientError as exc:
            if exc.status_code == 401 and self.saved:
                fail(f"Your saved login for {self.url} has expired or was revoked; run `doclane login`.")
            fail(exc.reason)


def login(url: UrlOpt = None, user: UserOpt = None, password: PasswordOpt = None) -> None:
    """Log in and save the token for the next commands (asks for what is not given)."""
    user = user or os.environ.get("DOCLANE_USERNAME") or typer.prompt("User")
    password = password or os.environ.get("DOCLANE_PASSWORD") or typer.prompt("Password", hide_input=True)
    session = GatewaySession(Target(url, user, password, None))
    with session.errors():
        token, answer = session.client.login()
    path = _save_token(session.url, user, token, int(answer["expires_in"]))
    _out.print(f"Logged in to {session.url} as {user} ({answer['role']}); token saved in {path} "
               f"for {int(answer['expires_in']) // 60} min.", highlight=False)


@dataclass
class _Tracked:
    name: str
    task: TaskID
    status: str = "pending"
    seq: int = 0
    reason: str | None = None


def _percent(event: dict[str, Any]) -> float:
    status, progress = event["status"], event.get("progress") or {}
    if status == "completed":
        return 100
    if status == "analyzing" and progress.get("total"):
        return 10 + 88 * float(progress["done"]) / float(progress["total"])
    return {"pending": 2, "processing": 5, "analyzing": 10}.get(status, 0)


def _label(event: dict[str, Any]) -> str:
    status, progress = event["status"], event.get("progress") or {}
    if status == "analyzing" and progress.get("total"):
        return f"analyzing {progress['done']}/{progress['total']} chunks"
    if status == "failed":
        return "[red]failed[/red]"
    return f"[green]{status}[/green]" if status == "completed" else status


def _follow(session: GatewaySession, accepted: dict[str, str]) -> list[tuple[str, str]]:
    """Bars until every document ended, from the SSE stream; the failures (name, reason)."""
    columns = (TextColumn("{task.fields[name]}"), BarColumn(), TaskProgressColumn(),
               TextColumn("{task.fields[state]}"))
    with Progress(*columns, console=_out) as progress:
        docs = {doc_id: _Tracked(name, progress.add_task("", total=100, name=name, state="pending"))
                for doc_id, name in accepted.items()}

        def apply(event: dict[str, Any]) -> None:
            doc = docs.get(event["document_id"])
            if doc is None or event["seq"] <= doc.seq:  # another document's, or seen already
                return
            doc.seq, doc.status = event["seq"], event["status"]
            if doc.status == "failed":
                doc.reason = event.get("error") or event.get("detail") or "no reason given"
            progress.update(doc.task, completed=_percent(event) or None, state=_label(event))

        cursor: int | None = None
        with session.errors():
            for doc_id in docs:  # catch up from each history: the stream resumes after it
                history = session.client.get(f"/documents/{doc_id}")["history"]
                for event in history:
                    apply(event)
                if history and docs[doc_id].status not in _TERMINAL:
                    last = history[-1]["cursor"]
                    cursor = last if cursor is None else min(cursor, last)
        connections = 0
        while any(d.status not in _TERMINAL for d in docs.values()):
            connections += 1
            with session.errors():
                try:
                    for event_id, kind, data in session.client.events("/documents/stream", since=cursor):
                        if kind == "error":  # the token was revoked or expired meanwhile
                            fail(json.loads(data).get("detail", data))
                        if kind != "status":
                            continue
                        cursor = int(event_id) if event_id else cursor
                        apply(json.loads(data))
                        if all(d.status in _TERMINAL for d in docs.values()):
                            break
                except httpx.TransportError:  # a dropped stream resumes after the last event
                    if connections > _RECONNECTS:
                        raise
    return [(d.name, d.reason or "") for d in docs.values() if d.status == "failed"]


def _upload_resumable(session: GatewaySession, paths: list[Path],
                      priority: str | None) -> list[dict[str, Any]]:
    """Big files one after the other through tus, each with a bar of its bytes; their results."""
    results: list[dict[str, Any]] = []
    if not paths:
        return results
    columns = (TextColumn("{task.fields[name]}"), BarColumn(), DownloadColumn(), TextColumn("uploading"))
    with Progress(*columns, console=_out, transient=True) as progress:
        for path in paths:
            task = progress.add_task("", total=path.stat().st_size, name=path.name)

            def advance(done: int, task: TaskID = task) -> None:
                progress.update(task, completed=done)

            try:
                with session.errors():
                    try:
                        document_id = upload_resumable(session.client, path, priority=priority,
                                                       chunk_bytes=_TUS_CHUNK_BYTES, progress=advance)
                    except ClientError as exc:
                        if exc.status_code in (None, 401, 403):
                            raise
                        results.append({"filename": path.name, "accepted": False, "detail": exc.reason})
                        continue
            finally:
                progress.remove_task(task)
            results.append({"filename": path.name, "accepted": True, "document": {"id": document_id}})
    return results


def upload(
    files: Annotated[list[Path], typer.Argument(
        help="Files to upload (PDF, DOCX, PPTX, HTML, Markdown, JSON, text).")],
    priority: Annotated[str | None, typer.Option(
        help="high, normal or low (default: by size and type).")] = None,
    follow: Annotated[bool, typer.Option(
        "--follow", "-f", help="Show each document's progress until it ends.")] = False,
    resumable_over_mb: Annotated[float, typer.Option(
        min=0, help="Larger files go to the resumable (tus) endpoint in chunks, surviving a "
                    "dropped connection (0: every file).")] = 8,
    url: UrlOpt = None, user: UserOpt = None, password: PasswordOpt = None, token: TokenOpt = None,
    data_dir: DataOpt = Path("data"),
) -> None:
    """Upload files; with --follow, a progress bar per file until each completed or failed."""
    if priority is not None and priority not in ("high", "normal", "low"):
        fail(f"--priority must be high, normal or low (got '{priority}').")
    if not math.isfinite(resumable_over_mb):
        fail(f"--resumable-over-mb must be a number of MB, 0 or more (got {resumable_over_mb}).")
    for path in files:
        if not path.is_file():
            fail(f"{path}: no such file.")
    session = GatewaySession(Target(url, user, password, token, data_dir))
    big = [p for p in files if p.stat().st_size > resumable_over_mb * (1 << 20)]
    results = _upload_resumable(session, big, priority)
    small = [p for p in files if p not in big]
    body: Any = None
    for start in range(0, len(small), _UPLOAD_BATCH):
        batch = small[start:start + _UPLOAD_BATCH]
        handles = [path.open("rb") for path in batch]
        try:
            with session.errors():
                response = session.client.request(
                    "POST", "/documents/upload", data={"priority": priority} if priority else None,
                    files=[("files", (p.name, h)) for p, h in zip(batch, handles, strict=True)])
                body = response.json() if "json" in response.headers.get("content-type", "") else None
                if not isinstance(body, dict) or "results" not in body:
                    session.client.answer(response)
        finally:
            for handle in handles:
                handle.close()
        results += body["results"]
    refused = [r for r in results if not r["accepted"]]
    for r in refused:
        _err.print(f"[red]refused[/red] {r['filename']}: {r['detail']}", highlight=False)
    accepted = {r["document"]["id"]: r["filename"] for r in results if r["accepted"]}
    if not follow:
        for doc_id, name in accepted.items():
            _out.print(f"{doc_id}  {name}", highlight=False)
        raise typer.Exit(1 if refused else 0)
    failures = _follow(session, accepted) if accepted else []
    for name, reason in failures:
        _err.print(f"[red]failed[/red] {name}: {reason}", highlight=False)
    done = len(accepted) - len(failures)
    _out.print(f"{done} completed, {len(failures)} failed, {len(refused)} refused.", highlight=False)
    raise typer.Exit(1 if failures or refused else 0)


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    return f"{n / (1 << 20):.1f} MB" if n >= 1 << 20 else f"{n / 1024:.0f} KB"


def _documents_table(items: list[dict[str, Any]]) -> Table:
    table = Table("name", "status", "type", "priority", "size")
    # Ids are what the other commands take: never cut, whatever the terminal's width.
    table.add_column("id", no_wrap=True, min_width=32)
    table.add_column("updated", no_wrap=True)
    for d in items:
        style = {"failed": "red", "completed": "green"}.get(d["status"], "")
        table.add_row(d["filename"], f"[{style}]{d['status']}[/{style}]" if style else d["status"],
                      d.get("doc_type") or "", d["priority"], _size(d["size_bytes"]), d["id"],
                      d["updated_at"][:16].replace("T", " "))
    return table


def status(
    document_id: Annotated[str | None, typer.Argument(
        help="A document id; without it, a summary of all.")] = None,
    url: UrlOpt = None, user: UserOpt = None, password: PasswordOpt = None, token: TokenOpt = None,
    data_dir: DataOpt = Path("data"),
) -> None:
    """Where a document is now, or how many of yours are where."""
    session = GatewaySession(Target(url, user, password, token, data_dir))
    if document_id is not None:
        s = session.get(f"/documents/{document_id}/status")
        progress = s.get("progress") or {}
        parts = [s["document_id"], s["status"], f"stage {s['stage']}" if s.get("stage") else "",
                 f"{progress['done']}/{progress['total']} chunks" if progress else "",
                 f"updated {s['updated_at'][:19]}"]
        _out.print("  ".join(p for p in parts if p), highlight=False)
        if s["status"] == "failed":
            _out.print(f"reason: {s.get('error') or s.get('detail')}", highlight=False)
        return
    items = session.get("/documents", limit=1000)["items"]
    counts: dict[str, int] = {}
    for d in items:
        counts[d["status"]] = counts.get(d["status"], 0) + 1
    _out.print(f"{len(items)} documents: " + (", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
                                              or "none yet"), highlight=False)
    open_ones = [d for d in items if d["status"] != "completed"]
    if open_ones:
        _out.print(_documents_table(open_ones))


def ls(
    status_: Annotated[str | None, typer.Option(
        "--status", help="Only pending, processing, analyzing, completed or failed ones.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first.")] = 100,
    url: UrlOpt = None, user: UserOpt = None, password: PasswordOpt = None, token: TokenOpt = None,
    data_dir: DataOpt = Path("data"),
) -> None:
    """List your documents, newest first."""
    session = GatewaySession(Target(url, user, password, token, data_dir))
    items = session.get("/documents", status=status_, limit=limit)["items"]
    if not items:
        _out.print("No documents" + (f" with status {status_}." if status_ else "."))
        return
    _out.print(_documents_table(items))


def show(
    document_id: Annotated[str, typer.Argument(help="The document's id.")],
    url: UrlOpt = None, user: UserOpt = None, password: PasswordOpt = None, token: TokenOpt = None,
    data_dir: DataOpt = Path("data"),
) -> None:
    """A document's results: summary, topics, sentiment, action items, type and entities."""
    session = GatewaySession(Target(url, user, password, token, data_dir))
    doc = session.get(f"/documents/{document_id}")
    print_ = _out.print
    print_(f"[bold]{doc['filename']}[/bold]  {doc['id']}", highlight=False)
    facts = [doc["status"], _size(doc["size_bytes"])]
    if doc.get("page_count"):
        facts.append(f"{doc['page_count']} page" + ("s" if doc["page_count"] > 1 else ""))
    if doc.get("chunk_count"):
        facts.append(f"{doc['chunk_count']} chunk" + ("s" if doc["chunk_count"] > 1 else ""))
    if doc.get("classification"):
        c = doc["classification"]
        facts.append(f"type {c['label']} ({c['confidence']:.0%})")
    elif doc.get("doc_type"):
        facts.append(f"type {doc['doc_type']}")
    print_(", ".join(facts), highlight=False)
    if doc["status"] == "failed":
        print_(f"[red]Failed:[/red] {doc.get('error')}", highlight=False)
    analysis = doc.get("analysis")
    if analysis:
        print_(f"\n[bold]Summary[/bold]\n{analysis['summary']}", highlight=False)
        print_(f"\n[bold]Topics[/bold]: {', '.join(analysis['topics']) or '-'}", highlight=False)
        why = f" - {analysis['sentiment_justification']}" if analysis.get("sentiment_justification") else ""
        print_(f"[bold]Sentiment[/bold]: {analysis['sentiment']}{why}", highlight=False)
        print_("\n[bold]Action items[/bold]" + ("" if analysis["action_items"] else ": none"))
        for item in analysis["action_items"]:
            who = ", ".join(x for x in (item.get("owner"), item.get("deadline")) if x)
            print_(f"  - {item['text']}" + (f" ({who})" if who else ""), highlight=False)
    elif doc["status"] != "failed":
        print_(f"\nNo results yet ({doc['status']}); `doclane status {doc['id']}` says where it is.")
    entities = doc.get("entities") or []
    if entities:
        by_label: dict[str, list[str]] = {}
        for e in entities:
            times = f" x{e['count']}" if e["count"] > 1 else ""
            by_label.setdefault(e["label"], []).append(e["text"] + times)
        print_("\n[bold]Entities[/bold]")
        for label, texts in by_label.items():
            print_(f"  {label}: {', '.join(texts)}", highlight=False)


admin_app = typer.Typer(help="Operate the pipeline (admin role).", no_args_is_help=True)


@admin_app.command("queues")
def admin_queues(
    url: UrlOpt = None, user: UserOpt = None, password: PasswordOpt = None, token: TokenOpt = None,
    data_dir: DataOpt = Path("data"),
) -> None:
    """Depth, lag, in-flight and throughput per stage and priority lane."""
    session = GatewaySession(Target(url, user, password, token, data_dir))
    answer = session.get("/admin/queues")
    table = Table("group", "stage", "topic", "lane", "depth", "lag", "in flight", "oldest waiting",
                  "per min", title=f"Queues ({answer['mode']})")
    for group in answer["groups"]:
        stage = f"{group['stage']} [yellow](paused)[/yellow]" if group["paused"] else group["stage"]
        for t in group["topics"]:
            oldest = t.get("oldest_waiting_s")
            table.add_row(group["group"], stage, t["topic"], t.get("lane") or "", str(t["depth"]),
                          str(t["lag"]), str(t["in_flight"]), f"{oldest:.1f} s" if oldest is not None else "",
                          f"{t['per_min']:g}")
    _out.print(table)


def register_client_commands(app: typer.Typer) -> None:
    """Add the client commands to the ``doclane`` command."""
    for command in (login, upload, status, ls, show):
        app.command(rich_help_panel=_PANEL)(command)
    app.add_typer(admin_app, name="admin", rich_help_panel=_PANEL)

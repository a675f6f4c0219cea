"""The ``doclane`` command: ``serve``, ``gateway``, ``worker <stage>``, ``replay``."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from doclane import __version__
from doclane.cli_client import DataOpt as ClientDataOpt
from doclane.cli_client import register_client_commands
from doclane.cli_interview import interview
from doclane.infra.settings import Settings

__all__ = ["app"]

T = TypeVar("T")

app = typer.Typer(help="doclane: document intelligence as an event-streaming pipeline.",
                  no_args_is_help=True)
_console = Console(stderr=True)

HostOpt = Annotated[str | None, typer.Option(help="Interface to listen on.")]
PortOpt = Annotated[int | None, typer.Option(help="Port to listen on.")]
DataOpt = Annotated[Path | None, typer.Option(help="Where uploads (and, embedded, the log and store) live.")]


def _settings(**overrides: object) -> Settings:
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as exc:  # one line per mistake, each saying what to fix
        for error in exc.errors():
            where = "DOCLANE_" + "_".join(str(p) for p in error["loc"]).upper() + ": " if error["loc"] else ""
            reason = str(error["msg"]).removeprefix("Value error, ")
            _console.print(f"[red]Configuration error:[/red] {escape(where + reason)}", soft_wrap=True)
        raise typer.Exit(2) from exc
    except ValueError as exc:
        _console.print(f"[red]Configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc


def _log_level() -> str:
    return os.environ.get("DOCLANE_LOG_LEVEL", "INFO").upper()


def _configure_logging() -> None:
    logging.basicConfig(level=_log_level(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _serve_api(settings: Settings, stages: tuple[str, ...] | None, what: str) -> None:
    from doclane.api.app import create_app
    from doclane.api.security import demo_password
    from doclane.api.sockets import MAX_MESSAGE_CHARS
    from doclane.cli_startup import OneLineStartFailure, raise_fd_limit

    _configure_logging()
    raise_fd_limit()  # one descriptor per live client (SSE/WS)
    url = f"http://{settings.host}:{settings.port}"
    mode = "distributed" if settings.distributed else "embedded"
    _console.print(f"[bold]doclane {__version__}[/bold] {what} ({mode} mode) at [cyan]{url}[/cyan] "
                   f"- API docs at {url}/docs - data in {settings.data_dir.resolve()}")
    if settings.users is None:
        _console.print(f"Log in as [bold]demo[/bold] / [bold]{demo_password(settings.data_dir)}[/bold] "
                       "(set DOCLANE_USERS to configure users)")
    command = "serve" if stages is None else "gateway"
    uvicorn.run(OneLineStartFailure(create_app(settings, stages), _console, command),
                host=settings.host, port=settings.port,
                log_level=_log_level().lower(), timeout_graceful_shutdown=5,
                # A WebSocket frame is refused (close 1009) before it is held whole: the
                # largest message the sockets accept, in UTF-8, and no more.
                ws_max_size=4 * MAX_MESSAGE_CHARS + 1024)


def _run_or_fail_in_one_line(what: str, main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)``; a server unreachable until the deadline exits with one line."""
    from doclane.cli_startup import print_start_failure
    from doclane.infra.connect import ConnectFailed

    try:
        return asyncio.run(main)
    except ConnectFailed as exc:
        print_start_failure(_console, what, exc)
        raise typer.Exit(1) from exc


@app.callback()
def _main() -> None:
    """doclane command line."""


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@app.command()
def serve(host: HostOpt = None, port: PortOpt = None, data_dir: DataOpt = None) -> None:
    """Run the API and every pipeline stage in one process."""
    _serve_api(_settings(host=host, port=port, data_dir=data_dir), None, "gateway and all stages")


@app.command()
def gateway(host: HostOpt = None, port: PortOpt = None, data_dir: DataOpt = None) -> None:
    """Run only the API (distributed mode): stages run as `doclane worker` processes."""
    settings = _settings(host=host, port=port, data_dir=data_dir)
    if not settings.distributed:
        _console.print("[red]doclane gateway needs DOCLANE_KAFKA_BOOTSTRAP and DOCLANE_MONGO_URL[/red]"
                       " (without them, `doclane serve` runs everything in one process)")
        raise typer.Exit(2)
    _serve_api(settings, (), "gateway")


@app.command()
def worker(
    stage: Annotated[str, typer.Argument(help="extract, analyze, index, aggregate or assess")],
    data_dir: DataOpt = None,
) -> None:
    """Run one consumer group member of STAGE until SIGTERM/SIGINT."""
    from doclane.consumers import STAGES

    if stage not in STAGES:
        _console.print(f"[red]Unknown stage {stage!r}[/red]; choose from {', '.join(STAGES)}")
        raise typer.Exit(2)
    settings = _settings(data_dir=data_dir)
    if not settings.distributed:
        _console.print("[red]doclane worker needs DOCLANE_KAFKA_BOOTSTRAP and DOCLANE_MONGO_URL[/red]")
        raise typer.Exit(2)
    _configure_logging()
    _run_or_fail_in_one_line(f"worker {stage}", _run_worker(settings, stage))


async def _run_worker(settings: Settings, stage: str) -> None:
    from doclane.infra.runtime import build_services, running

    if settings.metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(settings.metrics_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with running(build_services(settings), [stage]):
        logging.getLogger("doclane.worker").info("worker %s ready", stage)
        await stop.wait()


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Words or a question to look for.")],
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="How many passages.")] = 10,
    mode: Annotated[str, typer.Option(help="hybrid, semantic or keyword.")] = "hybrid",
    document: Annotated[str | None, typer.Option(help="Only this document id.")] = None,
    entity: Annotated[str | None, typer.Option(
        help="Only passages mentioning this entity: its text, or LABEL:text (ORG:Acme Corp).")] = None,
    doc_type: Annotated[str | None, typer.Option(
        "--type", help="Only documents of this type (invoice, resume, ...).")] = None,
    url: Annotated[str | None, typer.Option(help="The gateway (default $DOCLANE_URL or :8000).")] = None,
    user: Annotated[str | None, typer.Option(help="User name (default $DOCLANE_USERNAME).")] = None,
    password: Annotated[str | None, typer.Option(help="Password (default $DOCLANE_PASSWORD).")] = None,
    data_dir: ClientDataOpt = Path("data"),
) -> None:
    """Search your documents on a running gateway and print the best passages."""
    from doclane.cli_search import run_search

    code = run_search(query, k=k, mode=mode, document=document, url=url, user=user,
                      password=password, data_dir=data_dir, entity=entity,
                      doc_type=doc_type)
    raise typer.Exit(code)


@app.command()
def replay(data_dir: DataOpt = None) -> None:
    """Rebuild the store's status history and projections from the document.status topic."""
    settings = _settings(data_dir=data_dir)
    _configure_logging()
    restored, seen = _run_or_fail_in_one_line("replay", _replay(settings))
    _console.print(f"replayed {seen} status events; restored {restored} missing from the store")


async def _replay(settings: Settings) -> tuple[int, int]:
    from doclane.infra.runtime import build_services, running
    from doclane.schemas.events import StatusEvent, Topics

    restored = seen = 0
    async with running(build_services(settings), []) as services:
        async for event in services.bus.replay(Topics.DOCUMENT_STATUS, StatusEvent):
            seen += 1
            restored += await services.store.restore_status(event)
    return restored, seen


register_client_commands(app)  # login, upload, status, ls, show, admin queues
app.command(rich_help_panel="Client (talks to a running gateway)")(interview)

if __name__ == "__main__":
    app()

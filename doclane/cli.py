"""The ``doclane`` command."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from doclane import __version__
from doclane.infra.settings import Settings

__all__ = ["app"]

app = typer.Typer(help="doclane: document intelligence as an event-streaming pipeline.",
                  no_args_is_help=True)
_console = Console(stderr=True)


@app.callback()
def _main() -> None:
    """doclane command line."""


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Where the event log, store and uploads live.")] = None,
) -> None:
    """Run the API and every pipeline stage in one process (embedded mode)."""
    overrides = {k: v for k, v in {"host": host, "port": port, "data_dir": data_dir}.items() if v is not None}
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValueError as exc:
        _console.print(f"[red]Configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc
    from doclane.api.app import create_app
    from doclane.api.security import demo_password

    logging.basicConfig(level=os.environ.get("DOCLANE_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    url = f"http://{settings.host}:{settings.port}"
    _console.print(f"[bold]doclane {__version__}[/bold] (embedded mode) at [cyan]{url}[/cyan] "
                   f"- API docs at {url}/docs - data in {settings.data_dir.resolve()}")
    if settings.users is None:
        _console.print(f"Log in as [bold]demo[/bold] / [bold]{demo_password(settings.data_dir)}[/bold] "
                       "(set DOCLANE_USERS to configure users)")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                log_level=os.environ.get("DOCLANE_LOG_LEVEL", "INFO").lower(),
                timeout_graceful_shutdown=5)


if __name__ == "__main__":
    app()

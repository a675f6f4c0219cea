"""``doclane search``: the best passages of your documents, printed for a person."""

from __future__ import annotations

import html
import re
from pathlib import Path

import httpx
from rich.console import Console
from rich.text import Text

from doclane.client import ClientError, GatewayClient, default_url

__all__ = ["render_highlight", "run_search"]

_MARK = re.compile(r"<mark>(.*?)</mark>", re.DOTALL)


def render_highlight(highlight: str) -> Text:
    """A ``<mark>``-highlighted, HTML-escaped passage as terminal text with the marks in bold."""
    text = Text()
    last = 0
    for match in _MARK.finditer(highlight):
        text.append(html.unescape(highlight[last:match.start()]))
        text.append(html.unescape(match.group(1)), style="bold yellow")
        last = match.end()
    text.append(html.unescape(highlight[last:]))
    return text


def run_search(query: str, *, k: int, mode: str, document: str | None, url: str | None,
               user: str | None, password: str | None, data_dir: Path, entity: str | None = None,
               doc_type: str | None = None) -> int:
    """Print the results; the exit code (0 found, 1 nothing found, 2 error)."""
    out, err = Console(), Console(stderr=True)
    base = url or default_url()
    with GatewayClient(base, username=user, password=password, data_dir=data_dir) as client:
        try:
            answer = client.get("/search", q=query, k=k, mode=mode, document_id=document, entity=entity,
                                type=doc_type)
        except httpx.HTTPError as exc:
            err.print(f"[red]{client.request_error(exc).reason}[/red]")
            return 2
        except ClientError as exc:
            err.print(f"[red]{exc.reason}[/red]")
            return 2
    results = answer["results"]
    out.print(f"[bold]{len(results)}[/bold] passage(s) for [cyan]{query}[/cyan] "
              f"({answer['mode']}, {answer['took_ms']:.0f} ms)")
    for rank, hit in enumerate(results, 1):
        where = " > ".join(hit["section_path"]) or "(top)"
        pages = (f"p. {hit['page_start']}" if hit["page_start"] == hit["page_end"]
                 else f"pp. {hit['page_start']}-{hit['page_end']}")
        out.print()
        out.print(Text.assemble((f"{rank}. ", "bold"), (hit["filename"], "bold green"),
                                f"  {where}  {pages}  ", (f"score {hit['score']:.3f}", "dim")))
        out.print(render_highlight(hit["highlight"]))
    return 0 if results else 1

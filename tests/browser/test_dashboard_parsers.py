"""The page's own readers, run in the browser: the SSE parser and the Prometheus text parser."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.pages import WatchedPage
from tests.utils.server import ServerProcess

pytestmark = pytest.mark.slow

_PARSE_SSE = """async (chunks) => {
    const { SseParser } = await import("/static/js/stream.js");
    const events = [];
    const parser = new SseParser((e) => events.push(e));
    for (const chunk of chunks) parser.push(chunk);
    return events;
}"""


def _sse(page: WatchedPage, chunks: list[str]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = page.page.evaluate(_PARSE_SSE, chunks)
    return result


def test_sse_events_split_anywhere_and_any_line_ending_parse_the_same(page: WatchedPage) -> None:
    page.open()
    stream = (": ping - 2026-01-01\r\n\r\n"
              "event: status\r\nid: 7\r\ndata: {\"cursor\": 7}\r\n\r\n"
              "event: status\nid: 8\ndata: line one\ndata: line two\n\n"
              "event: status\rid: 9\rdata:no-space\r\r"
              "data: unterminated")
    expected = [
        {"event": "status", "id": "7", "data": '{"cursor": 7}'},
        {"event": "status", "id": "8", "data": "line one\nline two"},
        {"event": "status", "id": "9", "data": "no-space"},
    ]
    assert _sse(page, [stream]) == expected
    # Every split point, \r\n torn in two included, gives the same events.
    for cut in range(1, len(stream)):
        assert _sse(page, [stream[:cut], stream[cut:]]) == expected, cut
    assert _sse(page, list(stream)) == expected


def test_metrics_parser_reads_the_servers_own_metrics(page: WatchedPage, server: ServerProcess) -> None:
    page.open()
    text = httpx.get(f"{server.url}/metrics").text
    parsed = page.page.evaluate("""async (text) => {
        const { parseMetrics, sumBy } = await import("/static/js/prom.js");
        const samples = parseMetrics(text);
        return { count: samples.length,
                 names: [...new Set(samples.map((s) => s.name))],
                 labelled: parseMetrics('x_total{a="q\\\\"uote",b="2"} 3\\n# HELP x\\nplain 1.5e3\\n'),
                 grouped: Object.fromEntries(sumBy(parseMetrics('m{s="a"} 1\\nm{s="a"} 2\\nm{s="b"} 4\\n'),
                                                   "m", "s")) };
    }""", text)
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert parsed["count"] == len(lines)
    assert "doclane_uploads_total" in parsed["names"] or "python_info" in parsed["names"]
    assert parsed["labelled"] == [{"name": "x_total", "labels": {"a": 'q"uote', "b": "2"}, "value": 3},
                                  {"name": "plain", "labels": {}, "value": 1500}]
    assert parsed["grouped"] == {"a": 3, "b": 4}

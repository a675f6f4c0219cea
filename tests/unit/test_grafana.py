"""The Grafana dashboard asks only for metrics that doclane's ``/metrics`` really serves.

Every PromQL expression of ``infra/grafana/dashboards/doclane.json`` is tokenised and its
series selectors are read out (functions, aggregations, grouping clauses, label matchers,
ranges and modifiers are told apart from metric names); each selected name must be a sample
of a live server's ``/metrics`` after one document went through the pipeline, with the labels
the expression filters and groups by. A renamed metric or label then fails here instead of
leaving an empty panel in production.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.utils.api import auth, login, wait_until_terminal
from tests.utils.server import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "infra" / "grafana" / "dashboards" / "doclane.json"
DATASOURCES = ROOT / "infra" / "grafana" / "provisioning" / "datasources" / "prometheus.yml"

# --- PromQL: which series an expression selects -----------------------------------------

#: Grafana's built-in variables, replaced by a value of their kind before parsing.
_GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h",
                      "$__interval_ms": "60000", "$__range_s": "3600"}
_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<duration>(?:\d+(?:ms|[smhdwy]))+)(?![\w:])
  | (?P<number>0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<op>=~|!~|!=|==|<=|>=|[-+*/%^<>=(){}\[\],@:])
""", re.VERBOSE)
#: Clauses followed by a parenthesised list of label names.
_LABEL_LISTS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
#: Words that are never metric names (PromQL keywords are case-insensitive): the aggregation
#: operators, which may stand before ``by``/``without`` instead of ``(``, and the other keywords.
_KEYWORDS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
             "bottomk", "topk", "quantile", "limitk", "limit_ratio",
             "bool", "and", "or", "unless", "atan2", "offset", "inf", "nan"}
_MATCH_OPS = {"=", "!=", "=~", "!~"}


@dataclass
class Selector:
    """One vector selector: the metric's name and the label names its matchers use."""

    metric: str
    labels: set[str] = field(default_factory=set)


@dataclass
class Query:
    selectors: list[Selector]
    #: Label names of ``by``/``without``/``on``/``ignoring``/``group_*`` clauses.
    grouping: set[str]


def _tokens(expr: str) -> list[tuple[str, str]]:
    for variable, value in sorted(_GRAFANA_VARIABLES.items(), key=lambda kv: -len(kv[0])):
        expr = expr.replace(variable, value)
    out, pos = [], 0
    while pos < len(expr):
        match = _TOKEN.match(expr, pos)
        if match is None:
            raise ValueError(f"cannot read {expr[pos:pos + 20]!r} in {expr!r}")
        pos = match.end()
        if match.lastgroup != "space":
            out.append((str(match.lastgroup), match.group()))
    return out


def parse_promql(expr: str) -> Query:
    """The series selectors of ``expr`` and the labels it groups by."""
    tokens = _tokens(expr)
    selectors: list[Selector] = []
    grouping: set[str] = set()

    def peek(i: int) -> str:
        return tokens[i][1] if i < len(tokens) else ""

    def matchers(i: int, selector: Selector) -> int:
        """Reads ``{label op "value", ...}`` from the ``{`` at ``i``; returns the index after ``}``."""
        i += 1
        while peek(i) != "}":
            kind, label = tokens[i]
            op, (value_kind, value) = peek(i + 1), tokens[i + 2]
            if kind != "name" or op not in _MATCH_OPS or value_kind != "string":
                raise ValueError(f"bad label matcher at {label!r} in {expr!r}")
            if label == "__name__" and op == "=":
                selector.metric = value[1:-1]
            else:
                selector.labels.add(label)
            i += 3
            if peek(i) == ",":
                i += 1
        return i + 1

    i, depth = 0, 0
    while i < len(tokens):
        kind, text = tokens[i]
        if text == "[":  # a range or subquery: durations only
            end = next(j for j in range(i, len(tokens)) if tokens[j][1] == "]")
            i = end + 1
        elif kind == "name" and text.lower() in _LABEL_LISTS:
            i += 1
            if peek(i) == "(":
                end = next(j for j in range(i, len(tokens)) if tokens[j][1] == ")")
                grouping.update(t for k, t in tokens[i + 1:end] if k == "name")
                i = end + 1
        elif kind == "name" and (peek(i + 1) == "(" or text.lower() in _KEYWORDS):
            i += 1  # a function, an aggregation or another keyword
        elif kind == "name":
            selector = Selector(text)
            selectors.append(selector)
            i = matchers(i + 1, selector) if peek(i + 1) == "{" else i + 1
        elif text == "{":  # a selector by matchers only: {__name__="..."}
            selector = Selector("")
            i = matchers(i, selector)
            if not selector.metric:
                raise ValueError(f"a selector without a metric name in {expr!r}")
            selectors.append(selector)
        else:
            depth += {"(": 1, ")": -1}.get(text, 0)
            if depth < 0:
                raise ValueError(f"unbalanced parentheses in {expr!r}")
            i += 1
    if depth:
        raise ValueError(f"unbalanced parentheses in {expr!r}")
    return Query(selectors, grouping)


@pytest.mark.parametrize(("expr", "metrics", "labels", "grouping"), [
    ("histogram_quantile(0.95, sum by (le, stage) (rate(doclane_stage_seconds_bucket[$__rate_interval])))",
     ["doclane_stage_seconds_bucket"], set(), {"le", "stage"}),
    ('sum(rate(a_total{outcome=~"retried|dead_lettered", stage!="x,y}"}[5m] offset 1h)) by (stage)'
     " / on(stage) group_left(kind) sum without (instance) (b) > bool 0",
     ["a_total", "b"], {"outcome", "stage"}, {"stage", "kind", "instance"}),
    ('{__name__="c_total", job="gateway"} or c_info', ["c_total", "c_info"], {"job"}, set()),
    ('label_replace(up{job="x"}, "dst", "$1", "src", "(.*)")', ["up"], {"job"}, set()),
    ("max_over_time(rate(x[5m:30s])[1h:]) * 60 + 1e3 - Inf", ["x"], set(), set()),
    ("sum(increase(doclane_uploads_total[$__range] @ end()))", ["doclane_uploads_total"], set(), set()),
])
def test_the_query_reader_tells_metrics_from_everything_else(expr, metrics, labels, grouping):
    query = parse_promql(expr)
    assert [s.metric for s in query.selectors] == metrics
    assert set().union(*(s.labels for s in query.selectors)) == labels
    assert query.grouping == grouping


@pytest.mark.parametrize("expr", ["sum(rate(x[5m])", 'x{job=}', "x ? y", "rate(x[5m]))"])
def test_the_query_reader_refuses_what_it_cannot_read(expr):
    with pytest.raises(ValueError):
        parse_promql(expr)


# --- the dashboard ---------------------------------------------------------------------

def _panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in items:
        yield panel
        yield from _panels(panel.get("panels", []))  # a collapsed row holds its panels


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def queries(dashboard) -> dict[str, Query]:
    """Every expression of every panel, parsed; keyed by panel title and refId."""
    found = {f"{p['title']} [{t['refId']}]": parse_promql(t["expr"])
             for p in _panels(dashboard["panels"]) for t in p.get("targets", [])}
    assert found
    return found


def test_every_panel_queries_the_provisioned_prometheus(dashboard):
    datasource = yaml.safe_load(DATASOURCES.read_text())["datasources"][0]
    panels = [p for p in _panels(dashboard["panels"]) if p["type"] != "row"]
    assert panels
    for panel in panels:
        assert panel["targets"], f"{panel['title']} has no query"
        for ref in (panel["datasource"], *(t["datasource"] for t in panel["targets"])):
            assert ref == {"type": "prometheus", "uid": datasource["uid"]}, panel["title"]
    ids = [p["id"] for p in _panels(dashboard["panels"])]
    assert len(ids) == len(set(ids))


def test_panels_sit_side_by_side_without_overlapping(dashboard):
    cells: dict[tuple[int, int], str] = {}
    for panel in _panels(dashboard["panels"]):
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24, panel["title"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]


def test_the_dashboard_covers_what_operators_watch(queries):
    """Stage throughput and latency, AI calls and limiter waits, stream clients, errors, status."""
    used = {s.metric for q in queries.values() for s in q.selectors}
    assert {"doclane_stage_events_total", "doclane_stage_seconds_bucket", "doclane_ai_calls_total",
            "doclane_ai_limit_wait_seconds_bucket", "doclane_stream_clients",
            "doclane_status_events_total", "doclane_uploads_total"} <= used


# --- against a live server ---------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # The mock provider goes through the same AI client, limiter and metrics as OpenAI.
    proc = ServerProcess(tmp_path_factory.mktemp("grafana") / "data",
                         env={"DOCLANE_AI_PROVIDER": "mock", "DOCLANE_HEARTBEAT_S": "1"})
    with proc:
        yield proc


@dataclass
class Scrape:
    #: Family name (as the exposition's ``# TYPE`` line names it) → its type.
    types: dict[str, str]
    #: Sample name (``x_total``, ``y_bucket``, ``z``) → the label names seen on its samples.
    samples: dict[str, set[str]]
    values: dict[str, float]
    #: Every series: its sample name and its labels.
    series: set[tuple[str, frozenset[tuple[str, str]]]] = field(default_factory=set)

    def family_of(self, series: str) -> str:
        """The family a series belongs to, as Prometheus names them: a histogram's
        ``_bucket``/``_sum``/``_count`` and a counter's ``_total`` belong to the base name."""
        for suffix, kind in (("_bucket", "histogram"), ("_sum", "histogram"),
                             ("_count", "histogram"), ("_total", "counter")):
            base = series.removesuffix(suffix)
            if base != series and self.types.get(base) == kind:
                return base
        return series


def _scrape(url: str) -> Scrape:
    response = httpx.get(f"{url}/metrics", timeout=10)
    response.raise_for_status()
    scrape = Scrape({}, {}, {})
    for family in text_string_to_metric_families(response.text):
        scrape.types[family.name] = family.type
        for sample in family.samples:
            scrape.samples.setdefault(sample.name, set()).update(sample.labels)
            scrape.series.add((sample.name, frozenset(sample.labels.items())))
            scrape.values[sample.name] = scrape.values.get(sample.name, 0.0) + sample.value
    return scrape


@pytest.fixture(scope="module")
def fresh_scrape(server: ServerProcess) -> Scrape:
    """``/metrics`` of the server before its first document."""
    return _scrape(server.url)


@pytest.fixture(scope="module")
def scrape(server: ServerProcess, fresh_scrape: Scrape) -> Scrape:
    """``/metrics`` after one document went all the way, with a stream client connected."""
    token = login(server.url, "alice", "alice-pw")

    async def run() -> Scrape:
        async with httpx.AsyncClient(base_url=server.url, headers=auth(token), timeout=60) as client:
            text = ("# Quarterly report\n\nRevenue grew 12% to 4.2 million euros. Alice Martin "
                    "will send the audit to the board by 15 March 2027.\n\n## Risks\n\n"
                    "Supplier delays may slow the rollout in Germany.\n")
            response = await client.post("/documents/upload",
                                         files=[("files", ("report.md", text.encode()))])
            assert response.status_code == 202, response.text
            document_id = response.json()["results"][0]["document"]["id"]
            assert (await wait_until_terminal(client, document_id))["status"] == "completed"
            async with client.stream("GET", "/documents/stream") as stream:
                assert stream.status_code == 200
                loop = asyncio.get_running_loop()
                deadline = loop.time() + 30
                while True:  # the client counts once its stream has started
                    result = await asyncio.to_thread(_scrape, server.url)
                    if result.values.get("doclane_stream_clients", 0) >= 1 or loop.time() > deadline:
                        return result
                    await asyncio.sleep(0.05)

    return asyncio.run(run())


@pytest.mark.slow
def test_every_metric_the_dashboard_queries_is_served(queries, scrape):
    missing = {f"{where}: {s.metric}" for where, q in queries.items() for s in q.selectors
               if scrape.family_of(s.metric) not in scrape.types}
    assert not missing, f"the dashboard queries metrics /metrics does not serve: {sorted(missing)}"
    # After one document, every series a panel reads has samples (no panel stays empty).
    empty = {f"{where}: {s.metric}" for where, q in queries.items() for s in q.selectors
             if s.metric not in scrape.samples}
    assert not empty, f"series without samples after a document went through: {sorted(empty)}"


#: Labels Prometheus attaches to every series it scrapes (the target's).
_TARGET_LABELS = {"job", "instance"}


@pytest.mark.slow
def test_every_label_the_dashboard_filters_or_groups_by_is_on_its_metric(queries, scrape):
    for where, query in queries.items():
        on_metrics = _TARGET_LABELS.union(*(scrape.samples.get(s.metric, set()) for s in query.selectors))
        for selector in query.selectors:
            unknown = selector.labels - _TARGET_LABELS - scrape.samples.get(selector.metric, set())
            assert not unknown, f"{where}: {selector.metric} has no label {unknown}"
        assert query.grouping <= on_metrics, f"{where}: no metric has {query.grouping - on_metrics}"


@pytest.mark.slow
def test_histograms_are_queried_by_their_series(queries, scrape):
    """A histogram is read through ``_bucket``, ``_sum`` and ``_count``, never by its bare name."""
    histograms = {name for name, kind in scrape.types.items() if kind == "histogram"}
    assert "doclane_stage_seconds" in histograms
    bare = {s.metric for q in queries.values() for s in q.selectors} & histograms
    assert not bare, f"histograms queried by their bare names: {bare}"


@pytest.mark.slow
def test_the_stream_clients_gauge_counts_a_connected_client(scrape):
    assert scrape.values["doclane_stream_clients"] >= 1


@pytest.mark.slow
def test_counted_series_exist_at_zero_before_their_first_event(fresh_scrape):
    """``increase()`` and ``rate()`` miss the step that creates a series: the first document
    a gateway completes would not count in "Documents completed" if its series began there."""
    for name, labels in [
        ("doclane_status_events_total", {"status": "completed"}),
        ("doclane_status_events_total", {"status": "failed"}),
        ("doclane_uploads_total", {"outcome": "accepted"}),
        ("doclane_stage_events_total", {"stage": "analyze", "outcome": "ok"}),
        ("doclane_stage_events_total", {"stage": "extract", "outcome": "dead_lettered"}),
    ]:
        assert (name, frozenset(labels.items())) in fresh_scrape.series, (name, labels)
        assert fresh_scrape.values[name] == 0

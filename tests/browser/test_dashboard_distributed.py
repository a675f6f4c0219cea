"""The dashboard on a distributed doclane: a gateway and one worker per stage on Kafka and FerretDB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.pages import ADMIN, USER, WatchedPage
from tests.utils import infra
from tests.utils.api import auth, login
from tests.utils.cluster import Cluster, cluster_env
from tests.utils.documents import make_docx, make_report_pdf, make_text

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
DONE_MS = 120_000


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    users = f"{ADMIN.name}:{ADMIN.password}:admin,{USER.name}:{USER.password}:user"
    env = cluster_env(infra.kafka_bootstrap(), infra.mongo_url(), infra.search_url(),
                      DOCLANE_USERS=users, DOCLANE_HEARTBEAT_S="1", DOCLANE_AI_PROVIDER="local")
    cluster = Cluster(tmp_path_factory.mktemp("browser-cluster") / "data", env)
    try:
        cluster.start(analyzers=1, indexers=1)
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def page_on_cluster(browser: Browser, cluster: Cluster) -> Iterator[WatchedPage]:
    context = browser.new_context(base_url=cluster.gateway.url, viewport={"width": 1366, "height": 860})
    watched = WatchedPage(context.new_page(), cluster.gateway.url)
    try:
        yield watched
        watched.assert_no_errors()
    finally:
        context.close()


def test_three_uploads_finish_live_on_a_distributed_deployment(page_on_cluster: WatchedPage,
                                                               tmp_path: Path) -> None:
    page = page_on_cluster
    report = tmp_path / "distributed-report.pdf"
    make_report_pdf(report, n_pages=3, title="Distributed Report")
    files = [report,
             make_text(tmp_path / "distributed-notes.txt", "Notes\n\nMaria will send the plan by Friday.\n"),
             make_docx(tmp_path / "distributed-plan.docx", [("h1", "Plan"), ("p", "Hire two engineers.")])]
    page.sign_in(USER)
    page.drop_files(files)
    for path in files:
        expect(page.bar(path.name)).to_have_attribute("data-percent", "100", timeout=DONE_MS)
    page.row(report.name).get_by_role("link", name=report.name).click()
    expect(page.page.locator("#detail-summary")).not_to_be_empty()


def test_the_admin_sees_the_kafka_queues(page_on_cluster: WatchedPage, cluster: Cluster) -> None:
    token = login(cluster.gateway.url, ADMIN.name, ADMIN.password)
    if httpx.get(f"{cluster.gateway.url}/admin/queues", headers=auth(token)).status_code == 404:
        pytest.skip("GET /admin/queues does not exist on this server yet (the admin API is built separately)")
    page = page_on_cluster
    page.sign_in(ADMIN)
    page.page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    expect(page.page.locator("#admin-mode")).to_have_text("kafka mode")
    rows = page.page.locator("#queues tbody tr")
    expect(rows.filter(has_text="chunk.ready.high").first).to_be_visible()
    expect(page.page.locator("#stage-controls li[data-stage='analyze'] .badge")).to_have_text("Running")
    expect(page.page.locator("#charts figure[data-stage='analyze']")).to_have_attribute("data-depth", "0")
    page.screenshot("admin-distributed")

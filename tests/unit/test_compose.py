"""docker-compose.yml cannot run here (no Docker engine); check that it is coherent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from doclane.consumers import STAGES
from doclane.infra.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
_DOCLANE_SERVICES = ("gateway", "extractor", "analyzer", "aggregator", "indexer", "assessor")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_part_of_the_stack_is_a_service(compose):
    assert {"redpanda", "redpanda-console", "mongodb", "postgres", "gateway", "extractor", "analyzer",
            "aggregator", "indexer", "assessor", "prometheus", "grafana"} <= set(compose["services"])


def test_each_consumer_group_runs_as_its_own_worker_service(compose):
    services = compose["services"]
    assert services["gateway"]["command"] == ["doclane", "gateway"]
    workers = {s["command"][2] for s in services.values()
               if s.get("command", [])[:2] == ["doclane", "worker"]}
    assert workers == set(STAGES)
    assert services["analyzer"]["deploy"]["replicas"] >= 2


def test_doclane_variables_are_real_settings_and_select_distributed_mode(compose, monkeypatch):
    fields = {f"DOCLANE_{name.upper()}" for name in Settings.model_fields}
    for name in _DOCLANE_SERVICES:
        env = compose["services"][name]["environment"]
        unknown = {k for k in env if k.startswith("DOCLANE_")} - fields
        assert not unknown, f"{name} sets variables doclane does not read: {unknown}"
    env = compose["services"]["gateway"]["environment"]
    for key, value in env.items():
        if isinstance(value, str) and value.startswith("${"):
            value = value.split(":-", 1)[1].rstrip("}")
        monkeypatch.setenv(key, str(value))
    settings = Settings()
    assert settings.distributed
    assert settings.kafka_bootstrap == "redpanda:9092"
    assert settings.mongo_url is not None and "mongodb:27017" in settings.mongo_url.get_secret_value()
    assert settings.search_url is not None
    assert settings.search_url.get_secret_value().startswith("postgresql://doclane:")
    assert "@postgres:5432/doclane" in settings.search_url.get_secret_value()


def test_the_search_index_runs_on_postgres_with_pgvector_0_8(compose):
    postgres = compose["services"]["postgres"]
    image, tag = postgres["image"].split(":")
    assert image == "pgvector/pgvector"
    major, minor = (int(n) for n in tag.split("-")[0].split(".")[:2])
    assert (major, minor) >= (0, 8)  # hnsw.iterative_scan for owner-filtered vector search
    env = postgres["environment"]
    url = compose["services"]["gateway"]["environment"]["DOCLANE_SEARCH_URL"]
    assert url == f"postgresql://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}@postgres:5432/{env['POSTGRES_DB']}"
    assert "pg_isready" in postgres["healthcheck"]["test"]
    for name in _DOCLANE_SERVICES:
        depends = compose["services"][name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"


def test_workers_share_the_upload_volume_with_the_gateway(compose):
    volumes = {name: compose["services"][name].get("volumes") for name in
               _DOCLANE_SERVICES}
    assert len({tuple(v) for v in volumes.values()}) == 1
    assert any(v.endswith(":/data") for v in volumes["gateway"])


def test_prometheus_scrapes_the_gateway(compose):
    mount = compose["services"]["prometheus"]["volumes"][0].split(":")[0]
    config = yaml.safe_load((ROOT / mount).read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["gateway"]["static_configs"][0]["targets"] == ["gateway:8000"]
    assert jobs["gateway"]["metrics_path"] == "/metrics"


def test_the_image_runs_doclane():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["doclane", "gateway"]' in dockerfile
    assert "pip install '.[models]'" in dockerfile
    # The models doclane trains are built into the image, where the service looks for them.
    assert "python -m models.ner.train" in dockerfile and "python -m models.classify.train" in dockerfile
    assert "DOCLANE_MODELS_DIR=" in dockerfile


def _bind_mounts(service: dict) -> dict[str, Path]:
    """Container path → host path of a service's bind mounts (``./host:/container[:ro]``)."""
    mounts = {}
    for volume in service.get("volumes", []):
        host, container = volume.split(":")[:2]
        if host.startswith("."):
            mounts[container] = ROOT / host
    return mounts


def test_every_file_the_stack_mounts_is_in_the_repository(compose):
    for name, service in compose["services"].items():
        for container, host in _bind_mounts(service).items():
            assert host.exists(), f"{name} mounts {host.relative_to(ROOT)} at {container}; it is missing"


def test_prometheus_scrapes_every_worker_on_its_metrics_port(compose):
    config = yaml.safe_load((ROOT / "infra" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    (discovery,) = jobs["workers"]["dns_sd_configs"]
    workers = {name for name, s in compose["services"].items()
               if s.get("command", [])[:2] == ["doclane", "worker"]}
    assert set(discovery["names"]) == workers
    for name in workers:
        assert int(compose["services"][name]["environment"]["DOCLANE_METRICS_PORT"]) == discovery["port"]


def test_grafana_is_provisioned_with_prometheus_and_the_doclane_dashboard(compose):
    grafana = compose["services"]["grafana"]
    mounts = _bind_mounts(grafana)
    provisioning = mounts["/etc/grafana/provisioning"]
    datasources = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    (datasource,) = datasources["datasources"]
    assert datasource["type"] == "prometheus"
    host, port = datasource["url"].removeprefix("http://").split(":")
    assert host == "prometheus" and f"{port}:{port}" in compose["services"]["prometheus"]["ports"]
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "doclane.yml").read_text())["providers"]
    dashboards = mounts[provider["options"]["path"]]
    dashboard = json.loads((dashboards / "doclane.json").read_text())
    assert dashboard["uid"] == "doclane"
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == f"{provider['options']['path']}/doclane.json"
    uids = {p["datasource"]["uid"] for p in dashboard["panels"] if p["type"] != "row"}
    assert uids == {datasource["uid"]}

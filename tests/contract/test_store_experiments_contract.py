"""Every store keeps what each model version did, so experiments aggregate across processes."""

from __future__ import annotations

from doclane.infra.store.base import Store
from doclane.schemas.experiments import ExperimentObservation


def _obs(document_id: str, *, unit: int = -1, arm: str = "control", version: str = "v1",
         latency_ms: float = 5.0, **fields: object) -> ExperimentObservation:
    return ExperimentObservation.model_validate({
        "experiment": "exp-a", "document_id": document_id, "unit": unit, "arm": arm, "version": version,
        "latency_ms": latency_ms, **fields,
    })


async def test_observations_are_kept_per_experiment_and_read_back_whole(store: Store) -> None:
    await store.record_experiment_observation(_obs("d1", confidence=0.9, label="invoice", accuracy=1.0))
    await store.record_experiment_observation(_obs("d1", arm="candidate", version="v2", served=False,
                                                   agreement=0.0, label="other"))
    await store.record_experiment_observation(_obs("d2", unit=3, tokens=120, failed=True))
    await store.record_experiment_observation(
        ExperimentObservation(experiment="exp-b", document_id="d1", arm="control", version="x",
                              latency_ms=1.0))

    found = sorted(await store.experiment_observations("exp-a"), key=lambda o: (o.document_id, o.version))
    assert [(o.document_id, o.unit, o.version) for o in found] == [("d1", -1, "v1"), ("d1", -1, "v2"),
                                                                    ("d2", 3, "v1")]
    assert found[0] == _obs("d1", confidence=0.9, label="invoice", accuracy=1.0)
    assert found[1].served is False and found[1].agreement == 0.0
    assert found[2].failed and found[2].tokens == 120
    assert [o.version for o in await store.experiment_observations("exp-b")] == ["x"]
    assert await store.experiment_observations("nobody") == []


async def test_a_unit_measured_again_replaces_its_measurement(store: Store) -> None:
    # A redelivered chunk is measured twice: it must count once, with the newest figures.
    await store.record_experiment_observation(_obs("d1", unit=0, latency_ms=50))
    await store.record_experiment_observation(_obs("d1", unit=0, latency_ms=7))
    await store.record_experiment_observation(_obs("d1", unit=1, latency_ms=9))
    found = sorted(await store.experiment_observations("exp-a"), key=lambda o: o.unit)
    assert [(o.unit, o.latency_ms) for o in found] == [(0, 7.0), (1, 9.0)]


async def test_another_process_reads_what_one_recorded(store, store_factory) -> None:
    await store.record_experiment_observation(_obs("d9", unit=2))
    other = store_factory()
    await other.open()
    try:
        assert [o.document_id for o in await other.experiment_observations("exp-a")] == ["d9"]
    finally:
        await other.close()

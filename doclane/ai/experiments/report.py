"""The comparison of an experiment's arms, from the measurements kept in the store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from doclane.schemas.experiments import ArmReport, ExperimentConfig, ExperimentObservation, ExperimentReport

__all__ = ["compare"]


def _arm(arm: Literal["control", "candidate"], version: str,
         observations: Sequence[ExperimentObservation]) -> ArmReport:
    mine = [o for o in observations if o.arm == arm and o.version == version]
    latencies = [o.latency_ms for o in mine if not o.failed]
    confidences = [o.confidence for o in mine if o.confidence is not None]
    tokens = [o.tokens for o in mine if o.tokens is not None]
    agreements = [o.agreement for o in mine if o.agreement is not None]
    gold = [o for o in mine if o.accuracy is not None]
    return ArmReport(
        arm=arm, version=version,
        documents=len({o.document_id for o in mine}),
        units=len(mine),
        failures=sum(o.failed for o in mine),
        latency_ms_p50=round(float(np.percentile(latencies, 50)), 3) if latencies else None,
        latency_ms_p95=round(float(np.percentile(latencies, 95)), 3) if latencies else None,
        mean_confidence=round(sum(confidences) / len(confidences), 4) if confidences else None,
        tokens=sum(tokens) if tokens else None,
        agreement=round(sum(agreements) / len(agreements), 4) if agreements else None,
        shadowed_units=len(agreements),
        gold_documents=len({o.document_id for o in gold}),
        accuracy=round(sum(o.accuracy or 0.0 for o in gold) / len(gold), 4) if gold else None,
    )


def compare(config: ExperimentConfig, observations: Sequence[ExperimentObservation]) -> ExperimentReport:
    """Both arms of ``config`` side by side: documents, latency, failures and quality figures.

    In shadow mode the candidate's figures come from the shadow runs (its results were
    measured, not kept), and agreement is reported on both arms for the same units.
    """
    return ExperimentReport(
        name=config.name, component=config.component, mode=config.mode, share=config.share,
        control=_arm("control", config.control, observations),
        candidate=_arm("candidate", config.candidate, observations),
    )

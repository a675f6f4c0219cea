"""Which arm a document is in: a stable hash of the experiment's name and the document id."""

from __future__ import annotations

import hashlib

from doclane.schemas.experiments import ExperimentAssignment, ExperimentConfig, ExperimentMode

__all__ = ["assign", "bucket"]


def bucket(experiment: str, document_id: str) -> float:
    """A number in [0, 1) fixed by the experiment's name and the document id.

    sha256 spreads ids evenly whatever their shape, every process computes the same
    number (no state, no coordination), and two experiments split independently.
    """
    digest = hashlib.sha256(f"{experiment}\0{document_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(config: ExperimentConfig, document_id: str) -> ExperimentAssignment:
    """The document's arm: the candidate's share of documents falls below ``config.share``."""
    chosen = bucket(config.name, document_id) < config.share
    if config.mode is ExperimentMode.SHADOW:
        # Every document keeps the control's result; the share also runs the candidate.
        return ExperimentAssignment(
            experiment=config.name, component=config.component, arm="control", version=config.control,
            mode=config.mode, shadow_version=config.candidate if chosen else None,
        )
    return ExperimentAssignment(
        experiment=config.name, component=config.component,
        arm="candidate" if chosen else "control",
        version=config.candidate if chosen else config.control, mode=config.mode,
    )

"""A/B experiments on model versions: a share of the documents gets a candidate version.

``DOCLANE_EXPERIMENTS`` declares them (:mod:`.config`); a stable hash of the document
id picks each document's arm (:mod:`.assign`); the stages run the versions it names
(:mod:`.variants`) and record what each did (:mod:`.runner`); ``GET /admin/experiments``
compares the arms (:mod:`.report`), with accuracy on documents of the evaluation sets
(:mod:`.gold`).
"""

from __future__ import annotations

from doclane.ai.experiments.assign import assign, bucket
from doclane.ai.experiments.config import parse_experiments
from doclane.ai.experiments.report import compare
from doclane.ai.experiments.runner import Experiments, observe_model

__all__ = ["Experiments", "assign", "bucket", "compare", "observe_model", "parse_experiments"]

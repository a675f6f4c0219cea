"""The experiments of a process: which version serves a document, and what each version did.

Built once per process from the checked configuration. The stages ask it for the
version(s) a document gets (:meth:`Experiments.assignment`), run them, and hand
what they measured to :meth:`Experiments.observe`, which writes it to the store
(so the comparison aggregates across every process of a deployment) and to the
Prometheus metrics with the version as a label.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from doclane.ai.experiments.assign import assign
from doclane.ai.experiments.config import THRESHOLD_VERSION
from doclane.ai.experiments.gold import GoldLookup, entity_f1
from doclane.ai.experiments.variants import ClassifierTrial, NerRun, ThresholdClassifier, build_lr_variant
from doclane.infra.metrics import MODEL_RUNS, MODEL_SECONDS
from doclane.schemas.experiments import (
    Component,
    ExperimentAssignment,
    ExperimentConfig,
    ExperimentObservation,
)

if TYPE_CHECKING:
    from doclane.ai.base import Analyzer
    from doclane.ai.cache import AnalysisCache
    from doclane.ai.classify.base import DocumentClassifier
    from doclane.ai.embeddings.base import Embedder
    from doclane.infra.settings import Settings
    from doclane.infra.store.base import Store
    from doclane.schemas.analysis import ChunkAnalysis
    from doclane.schemas.extraction import Chunk

__all__ = ["Experiments", "analysis_settings", "analysis_version", "observe_model"]

logger = logging.getLogger(__name__)


def observe_model(component: Component | str, version: str, latency_ms: float, *,
                  failed: bool = False) -> None:
    """Count one model call in the Prometheus metrics, labelled with its version."""
    name = component.value if isinstance(component, Component) else component
    MODEL_SECONDS.labels(name, version).observe(latency_ms / 1000)
    MODEL_RUNS.labels(name, version, "failed" if failed else "ok").inc()


def analysis_settings(settings: Settings, version: str) -> Settings:
    """The settings of an analysis version: ``provider`` or ``provider/prompt-version``."""
    provider, _, prompts = version.partition("/")
    update: dict[str, object] = {"ai_provider": provider}
    if prompts:
        update["ai_prompt_version"] = prompts
    return settings.model_copy(update=update)


class Experiments:
    """The running experiments, at most one per component."""

    def __init__(self, configs: list[ExperimentConfig], settings: Settings, store: Store,
                 build_analyzer: Callable[[str], Analyzer] | None = None,
                 build_embedder: Callable[[str], Embedder] | None = None) -> None:
        self.configs = configs
        self._settings = settings
        self._store = store
        self._by_component = {c.component: c for c in configs}
        self._build_analyzer = build_analyzer
        self._build_embedder = build_embedder
        self._analyzers: dict[str, tuple[Analyzer, AnalysisCache]] = {}
        self._embedders: dict[str, Embedder] = {}
        self._lr: DocumentClassifier | None = None
        self.gold = GoldLookup(settings)

    def __bool__(self) -> bool:
        return bool(self.configs)

    def config(self, component: Component) -> ExperimentConfig | None:
        return self._by_component.get(component)

    def assignment(self, component: Component, document_id: str) -> ExperimentAssignment | None:
        """The document's arm in the experiment on ``component``, if one runs."""
        config = self._by_component.get(component)
        return assign(config, document_id) if config is not None else None

    def assignments(self, document_id: str) -> list[ExperimentAssignment]:
        """The document's arm in every experiment (recorded on it and on its status events)."""
        return [assign(c, document_id) for c in self.configs]

    async def observe(self, observation: ExperimentObservation) -> None:
        """Keep one measurement in the store, where the comparison reads every process's.

        (The stages count every model run in the Prometheus metrics themselves, with or
        without an experiment: :func:`observe_model`.)
        """
        try:
            await self._store.record_experiment_observation(observation)
        except Exception:  # a lost measurement must never fail the document
            logger.exception("could not record a measurement of experiment %s", observation.experiment)

    # --- the classifier (run by the extractor, in the CPU pool) ---
    def classifier_arms(self, document_id: str,
                        trained: DocumentClassifier) -> list[tuple[str, DocumentClassifier]]:
        """The classifier version(s) to run on a document, the one whose result it keeps first."""
        chosen = self.assignment(Component.CLASSIFIER, document_id)
        if chosen is None:
            return [(trained.version, trained)]
        arms = [(chosen.version, self.classifier_version(chosen.version, trained))]
        if chosen.shadow_version is not None:
            arms.append((chosen.shadow_version, self.classifier_version(chosen.shadow_version, trained)))
        return arms

    async def record_classifier(self, document_id: str, sha256: str, trials: list[ClassifierTrial]) -> None:
        """Keep what each classifier version said about a document, with agreement and accuracy."""
        chosen = self.assignment(Component.CLASSIFIER, document_id)
        if chosen is None or not trials:
            return
        gold = await asyncio.to_thread(self.gold.label, sha256)
        labels = {t.name: (t.classification.label.value if t.classification else None) for t in trials}
        shadowed = len(trials) > 1
        for i, trial in enumerate(trials):
            found = trial.classification
            other = labels[trials[1 - i].name] if shadowed else None
            await self.observe(ExperimentObservation(
                experiment=chosen.experiment, document_id=document_id,
                arm=chosen.arm if i == 0 else "candidate", version=trial.name, served=i == 0,
                latency_ms=trial.latency_ms, failed=trial.error is not None,
                confidence=found.confidence if found else None,
                label=found.label.value if found else None,
                agreement=(float(found is not None and found.label.value == other) if shadowed else None),
                accuracy=(float(found is not None and found.label.value == gold) if gold else None),
            ))

    # --- NER and embeddings (run by the indexer, per chunk) ---
    async def record_ner(self, chosen: ExperimentAssignment, document_id: str, sha256: str, unit: int,
                         served: NerRun, shadow: NerRun | None, shadow_error: str | None = None) -> None:
        """Keep what each NER version found in a chunk: time, agreement (Jaccard), gold F1."""
        gold = await asyncio.to_thread(self.gold.entities, sha256)
        served_keys = _entity_keys(served)
        shadow_keys = _entity_keys(shadow) if shadow is not None else None
        agreement = _jaccard(served_keys, shadow_keys) if shadow_keys is not None else None
        await self.observe(ExperimentObservation(
            experiment=chosen.experiment, document_id=document_id, unit=unit, arm=chosen.arm,
            version=chosen.version, latency_ms=served.latency_ms, agreement=agreement,
            accuracy=entity_f1(served_keys, gold) if gold is not None else None,
        ))
        if chosen.shadow_version is not None:
            await self.observe(ExperimentObservation(
                experiment=chosen.experiment, document_id=document_id, unit=unit, arm="candidate",
                version=chosen.shadow_version, served=False,
                latency_ms=shadow.latency_ms if shadow is not None else 0.0,
                failed=shadow is None or shadow_error is not None, agreement=agreement,
                accuracy=(entity_f1(shadow_keys, gold) if gold is not None and shadow_keys is not None
                          else None),
            ))

    async def record_run(self, chosen: ExperimentAssignment, document_id: str, unit: int, *,
                         served_ms: float, shadow_ms: float | None = None, shadow_failed: bool = False,
                         agreement: float | None = None, served_tokens: int | None = None,
                         shadow_tokens: int | None = None) -> None:
        """Keep the time (and tokens) of the served version on one unit, and of its shadow if any."""
        await self.observe(ExperimentObservation(
            experiment=chosen.experiment, document_id=document_id, unit=unit, arm=chosen.arm,
            version=chosen.version, latency_ms=served_ms, tokens=served_tokens, agreement=agreement,
        ))
        if chosen.shadow_version is not None:
            await self.observe(ExperimentObservation(
                experiment=chosen.experiment, document_id=document_id, unit=unit, arm="candidate",
                version=chosen.shadow_version, served=False, latency_ms=shadow_ms or 0.0,
                failed=shadow_failed, tokens=shadow_tokens, agreement=agreement,
            ))

    # --- analysis (run by the analyzer, per chunk) ---
    async def analyze_chunk(self, chosen: ExperimentAssignment, document_id: str,
                            chunk: Chunk) -> ChunkAnalysis:
        """The chunk's analysis by the document's arm (cached as usual), its shadow run measured too.

        The shadow version always calls its provider (never its cache), so its time and
        tokens are what it would cost; agreement is sentiment equality.
        """
        analyzer, cache = self.analyzer(chosen.version)
        started = time.perf_counter()
        try:
            analysis = await cache.chunk_analysis(chunk, lambda: analyzer.analyze_chunk(chunk))
        except Exception:
            served_ms = (time.perf_counter() - started) * 1000
            observe_model(Component.ANALYSIS, chosen.version, served_ms, failed=True)
            await self.observe(ExperimentObservation(
                experiment=chosen.experiment, document_id=document_id, unit=chunk.index, arm=chosen.arm,
                version=chosen.version, latency_ms=served_ms, failed=True))
            raise
        served_ms = (time.perf_counter() - started) * 1000
        observe_model(Component.ANALYSIS, analysis_version(analysis), served_ms)
        shadow: ChunkAnalysis | None = None
        shadow_ms: float | None = None
        if chosen.shadow_version is not None:
            other, _ = self.analyzer(chosen.shadow_version)
            started = time.perf_counter()
            try:
                shadow = await other.analyze_chunk(chunk)
            except Exception:  # a failing shadow is measured, never the document's failure
                logger.exception("shadow analysis %s failed", chosen.shadow_version)
            shadow_ms = (time.perf_counter() - started) * 1000
            observe_model(Component.ANALYSIS, analysis_version(shadow) if shadow else chosen.shadow_version,
                          shadow_ms, failed=shadow is None)
        await self.record_run(
            chosen, document_id, chunk.index, served_ms=served_ms, shadow_ms=shadow_ms,
            shadow_failed=chosen.shadow_version is not None and shadow is None,
            agreement=float(shadow.sentiment == analysis.sentiment) if shadow is not None else None,
            served_tokens=_tokens(analysis), shadow_tokens=_tokens(shadow) if shadow is not None else None,
        )
        return analysis

    # --- the versions ---
    def prepare_classifiers(self, trained: DocumentClassifier) -> None:
        """Build (once, cached on disk) and load the classifier versions the experiment needs.

        Blocking (a fit of a few seconds the first time): run it in a thread at start.
        """
        config = self.config(Component.CLASSIFIER)
        if config is None or self._lr is not None:
            return
        versions = (THRESHOLD_VERSION.match(v) for v in (config.control, config.candidate))
        if not any(m is not None and m.group("lr") for m in versions):
            return
        from doclane.ai.classify.exceptions import ClassifierUnavailable
        from doclane.ai.classify.linear import load_artefact

        path, threshold = getattr(trained, "path", None), getattr(trained, "threshold", None)
        if not isinstance(path, Path) or not isinstance(threshold, float):
            raise ClassifierUnavailable("'trained-lr' needs the trained classifier's artefact directory")
        self._lr = load_artefact(str(build_lr_variant(path, threshold)))

    def classifier_version(self, name: str, trained: DocumentClassifier) -> DocumentClassifier:
        """The classifier an experiment names: the trained one or the LR variant, at a threshold."""
        match = THRESHOLD_VERSION.match(name)
        if match is None:
            return trained
        base = trained
        if match.group("lr"):
            if self._lr is None:
                raise RuntimeError("prepare_classifiers() was not run for 'trained-lr'")
            base = self._lr
        return base if match.group("t") is None else ThresholdClassifier(base, float(match.group("t")))

    def analyzer(self, version: str) -> tuple[Analyzer, AnalysisCache]:
        """The analyzer (and its result cache) an analysis experiment names, built once."""
        if version not in self._analyzers:
            if self._build_analyzer is None:
                raise RuntimeError("this process builds no analyzers")
            from doclane.ai.cache import AnalysisCache

            analyzer = self._build_analyzer(version)
            self._analyzers[version] = (analyzer, AnalysisCache(self._store, analyzer, self._settings))
        return self._analyzers[version]

    def embedder(self, version: str) -> Embedder:
        """The embedder an embeddings experiment names, built once."""
        if version not in self._embedders:
            if self._build_embedder is None:
                raise RuntimeError("this process builds no embedders")
            self._embedders[version] = self._build_embedder(version)
        return self._embedders[version]

    async def close(self) -> None:
        for analyzer, _ in self._analyzers.values():
            await analyzer.close()
        for embedder in self._embedders.values():
            await embedder.close()


def _entity_keys(run: NerRun) -> set[tuple[str, str]]:
    return {(e.label.value, e.text.casefold()) for e in run.entities}


def _jaccard(a: set[tuple[str, str]], b: set[tuple[str, str]]) -> float:
    """Entity-set agreement: shared over all (1.0 when neither version found anything)."""
    union = a | b
    return len(a & b) / len(union) if union else 1.0


def analysis_version(analysis: ChunkAnalysis) -> str:
    """An analysis result's version: provider, model and prompt version."""
    return "/".join(p for p in (analysis.provider, analysis.model, analysis.prompt_version) if p)


def _tokens(analysis: ChunkAnalysis) -> int | None:
    """Tokens an analysis cost (``None`` when it made no AI call, e.g. local or cached)."""
    usage = analysis.usage
    if usage is None or analysis.cached:
        return None
    return usage.prompt_tokens + usage.completion_tokens

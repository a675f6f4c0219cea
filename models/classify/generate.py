"""The generated part of the training data: N documents per class, in every format.

Deterministic: the same seed, Faker version and code give the same documents.
"""

from __future__ import annotations

from collections.abc import Callable

from models.classify._gen_business import contract, invoice, letter
from models.classify._gen_common import Gen
from models.classify._gen_people import job_description, resume
from models.classify._gen_writing import other, paper, presentation, report, report_short
from models.classify.sources import SourceDoc

__all__ = ["GENERATORS", "generated_docs"]


def _any_report(g: Gen) -> str:
    """Long multi-chapter reports and short operational ones, half each."""
    return report(g) if g.chance(0.5) else report_short(g)


GENERATORS: dict[str, Callable[[Gen], str]] = {
    "invoice": invoice, "contract": contract, "resume": resume, "job_description": job_description,
    "report": _any_report, "paper": paper, "presentation": presentation, "letter": letter, "other": other,
}
#: Formats people actually send each kind in; a deck is mostly PPTX but also exported as text.
_FORMATS = {"presentation": (("pptx", 6), ("pdf", 2), ("md", 1), ("txt", 1))}
_DEFAULT_FORMATS = (("txt", 4), ("pdf", 4), ("docx", 4), ("md", 3), ("html", 2), ("json", 1), ("pptx", 1))
#: File names that say what the document is, for half of the documents (the rest are neutral).
_NAMES = {
    "invoice": ["invoice", "inv", "bill", "factura"], "contract": ["agreement", "contract", "nda", "msa"],
    "resume": ["cv", "resume", "curriculum vitae"], "job_description": ["job description", "jd", "vacancy", "job ad"],
    "report": ["report", "annual report", "review"], "paper": ["paper", "preprint", "manuscript"],
    "presentation": ["slides", "deck", "presentation"], "letter": ["letter", "email", "message"],
    "other": ["notes", "recipe", "readme", "receipt"],
}
_NEUTRAL = ["document", "scan", "file", "download", "untitled", "copy of", "final", "draft", "export", "new"]


def _weighted(g: Gen, options: tuple[tuple[str, int], ...]) -> str:
    return g.r.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def generated_docs(per_class: int, seed: int) -> list[SourceDoc]:
    """``per_class`` generated documents of every class (ids ``gen-<label>-<n>``)."""
    docs: list[SourceDoc] = []
    for k, (label, make) in enumerate(sorted(GENERATORS.items())):
        g = Gen(seed * 100 + k)  # one stream per class: adding a class leaves the others unchanged
        for n in range(per_class):
            fmt = _weighted(g, _FORMATS.get(label, _DEFAULT_FORMATS))
            words = g.pick(_NAMES[label]) if g.chance(0.5) else g.pick(_NEUTRAL)
            name = f"{words.replace(' ', g.pick(['_', '-', ' ']))}{g.pick(['', '_', '-'])}{g.r.randint(1, 999)}"
            docs.append(SourceDoc(id=f"gen-{label}-{n:03d}", label=label, format=fmt, body=make(g), name=name))
    return docs

"""The default priority lane of a document, once its type is known.

An upload without an explicit priority gets a lane by size at once (small files
``high``, huge ones ``low``: :func:`doclane.producers.uploads.default_priority`).
When the extractor has classified the document it refines that lane by type,
because what a person waits on depends on what the document is: an invoice, a
resume or a job description is usually wanted now (someone is paying, hiring or
interviewing), while a long paper, report or slide deck is reading for later and
should not hold up the short ones. An explicit priority always wins.

=====================  =========================================================
type                   lane
=====================  =========================================================
invoice, resume,       ``high`` up to 20 pages (one that long is a bundle:
job_description        it keeps its lane by size)
paper, report,         ``low`` from 20 pages on (shorter ones keep their lane
presentation           by size)
anything else          its lane by size
=====================  =========================================================
"""

from __future__ import annotations

from doclane.schemas.enrichment import DocType
from doclane.schemas.events import Priority

__all__ = ["LONG_READ_PAGES", "SHORT_TYPES_MAX_PAGES", "TYPE_LANES", "lane_for"]

#: Types someone usually waits on, and the long reads that can wait.
TYPE_LANES: dict[DocType, Priority] = {
    DocType.INVOICE: Priority.HIGH,
    DocType.RESUME: Priority.HIGH,
    DocType.JOB_DESCRIPTION: Priority.HIGH,
    DocType.PAPER: Priority.LOW,
    DocType.REPORT: Priority.LOW,
    DocType.PRESENTATION: Priority.LOW,
}
#: A "high" type longer than this is a bundle (a year of invoices), not one urgent document.
SHORT_TYPES_MAX_PAGES = 20
#: A "low" type is sent to the low lane from this many pages on.
LONG_READ_PAGES = 20


def lane_for(doc_type: DocType | str | None, page_count: int | None, by_size: Priority) -> Priority:
    """The lane of a document without an explicit priority: by type and pages, else ``by_size``."""
    if doc_type is None:
        return by_size
    lane = TYPE_LANES.get(DocType(doc_type))
    pages = page_count or 1
    if lane is Priority.HIGH and pages <= SHORT_TYPES_MAX_PAGES:
        return Priority.HIGH
    if lane is Priority.LOW and pages >= LONG_READ_PAGES:
        return Priority.LOW
    return by_size

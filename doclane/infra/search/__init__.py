"""The search index: PostgreSQL + pgvector (distributed), SQLite with FTS5 and exact vectors (embedded).

Build one with :func:`build_search_index`; search it with
:func:`doclane.infra.search.hybrid.search`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from doclane.infra.search.base import SearchIndex

if TYPE_CHECKING:
    from doclane.infra.settings import Settings

__all__ = ["SearchIndex", "build_search_index"]


def build_search_index(settings: Settings, model: str, dim: int) -> SearchIndex:
    """The index for ``model``'s vectors: PostgreSQL when ``search_url`` is set, else
    ``data_dir/search.db``. Not opened yet: call ``open()`` at start-up."""
    if settings.search_url is not None:
        from doclane.infra.search.postgres import PostgresSearchIndex

        return PostgresSearchIndex(
            settings.search_url.get_secret_value(), model, dim,
            connect_deadline_s=settings.connect_deadline_s,
        )
    from doclane.infra.search.sqlite import SqliteSearchIndex

    return SqliteSearchIndex(settings.data_dir / "search.db", model, dim)

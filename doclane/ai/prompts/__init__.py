"""Versioned prompt files: ``<version>/{chunk,reduce}.{system,user}.md``.

A change of wording is a new version directory, never an edit in place: the
version is recorded on every result and is part of the cache key, so results
made with old prompts are neither mixed up with new ones nor reused for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from string import Template

__all__ = ["PromptSet", "available_versions", "load_prompts"]


@dataclass(frozen=True)
class PromptSet:
    version: str
    chunk_system: str
    chunk_user: Template
    reduce_system: str
    reduce_user: Template


def available_versions() -> list[str]:
    return sorted(p.name for p in resources.files(__package__).iterdir()
                  if p.is_dir() and not p.name.startswith("_"))


def load_prompts(version: str) -> PromptSet:
    """Read one version of the prompts from the package; a clear error if it doesn't exist."""
    if version not in available_versions():
        raise ValueError(
            f"no prompts of version {version!r} (DOCLANE_AI_PROMPT_VERSION); "
            f"available: {', '.join(available_versions())}"
        )
    folder = resources.files(__package__).joinpath(version)

    def read(name: str) -> str:
        return folder.joinpath(name).read_text(encoding="utf-8").strip()

    return PromptSet(
        version=version,
        chunk_system=read("chunk.system.md"),
        chunk_user=Template(read("chunk.user.md")),
        reduce_system=read("reduce.system.md"),
        reduce_user=Template(read("reduce.user.md")),
    )

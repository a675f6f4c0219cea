"""What every model's workflow does alike: hash its inputs, and write its artefact whole.

An artefact is ``models_dir / f"{kind}-{hash}"``, the hash covering everything the trained
model depends on (:func:`fingerprint`); :func:`publish` writes it into a temporary folder beside
its place and renames it there, so processes that race to build one never see half of it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path

__all__ = ["ROOT", "fingerprint", "named", "publish"]

#: The repository; input files are hashed under their path relative to it.
ROOT = Path(__file__).resolve().parent.parent


def named(paths: Iterable[Path], root: Path = ROOT) -> list[tuple[str, Path]]:
    """Each of ``paths`` with its name for :func:`fingerprint`: its path relative to ``root``."""
    return [(str(path.relative_to(root)), path) for path in paths]


def fingerprint(header: str, files: Iterable[tuple[str, Path]], libraries: Iterable[str], *,
                length: int) -> str:
    """Hash of ``header`` (the settings), each (name, file)'s name and content, in order, and
    the libraries' installed versions: the first ``length`` hex digits."""
    digest = hashlib.sha256(header.encode())
    for name, path in files:
        digest.update(name.encode())
        digest.update(path.read_bytes())
    for library in libraries:
        digest.update(f"{library}={metadata.version(library)}".encode())
    return digest.hexdigest()[:length]


def publish(target: Path, write: Callable[[Path], None], *, force: bool = False) -> Path:
    """Put the artefact ``write(folder)`` writes at ``target``, whole or not at all.

    ``force`` replaces an artefact already there; otherwise one that another process put
    there first is kept (the same inputs made it, so it is the same artefact).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        write(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if force and target.exists():
        shutil.rmtree(target)
    try:
        os.rename(tmp, target)
    except OSError:  # another process finished first: its artefact is the same one
        shutil.rmtree(tmp, ignore_errors=True)
    return target

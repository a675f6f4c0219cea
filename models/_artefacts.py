"""What every model's workflow does alike: hash its inputs, and write its artefact whole.

An artefact is ``models_dir / f"{kind}-{hash}"``, the hash covering everything the trained
model depends on (:func:`fingerprint`); :func:`publish` writes it into a temporary folder beside
its place and renames it there, so processes that race to build one never see half of it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["ROOT", "build_command", "fingerprint", "named", "publish", "publish_model"]

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


def publish_model(target: Path, model: Any, manifest: dict[str, Any], *, force: bool = False) -> Path:
    """:func:`publish` a model saved with ``joblib`` (``model.joblib``) and its ``manifest.json``,
    the names :func:`doclane.ai._artefacts.artefact_path`'s readers look for."""
    import joblib

    from doclane.ai._artefacts import MANIFEST_FILE, MODEL_FILE

    def write(folder: Path) -> None:
        joblib.dump(model, folder / MODEL_FILE)
        (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1), encoding="utf-8")

    return publish(target, write, force=force)


def build_command(description: str, build: Callable[..., Path],
                  argv: Sequence[str] | None = None) -> tuple[Path, dict[str, Any], float]:
    """A ``models.<kind>.train`` command's common part: ``--force``, build into the settings'
    models directory, and (the artefact, its manifest, the seconds it took)."""
    from doclane.infra.settings import get_settings

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--force", action="store_true", help="retrain even if the artefact exists")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    path = build(get_settings().models_dir, force=args.force)
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    return path, manifest, time.perf_counter() - started

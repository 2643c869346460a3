"""Logged artifacts kept under their content address, so an old audit record's digests still verify.

A shift's scoring files, a model's training data, a plan's inputs are rewritten by later runs under their
readable names; the audit log names the bytes it saw by sha256, and those bytes stay here, at
`artifacts/sha256/<first two digits>/<digest><suffix>`, written once (temp file + rename) and never
changed. Readable names stay too, for people; the address is what an auditor checks.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from beatwise import paths
from beatwise.audit.chain import file_digest

STORE = "sha256"


class ArtifactError(Exception):
    """A logged artifact is missing or its bytes no longer match its address (named in the message)."""


def store_dir() -> Path:
    return paths.artifacts_dir() / STORE


def address(digest: str, suffix: str = "") -> Path:
    return store_dir() / digest[:2] / f"{digest}{suffix}"


def keep(path: Path) -> dict:
    """Copy a file's bytes to their content address (once); its digest and address relative to the home."""
    path = Path(path)
    digest = file_digest(path)
    target = address(digest, path.suffix)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        with os.fdopen(fd, "wb") as out, path.open("rb") as src:
            for block in iter(lambda: src.read(1 << 20), b""):
                out.write(block)
        os.chmod(temp, 0o444)
        os.replace(temp, target)
    return {"file_sha256": digest, "address": paths.in_home(target)}


def keep_tree(folder: Path) -> str:
    """Keep every file of a folder (an MLflow model, say) and return the folder's digest: the sha256 of
    its sorted (relative path, file digest) lines, so any change to any file changes it."""
    lines = []
    for file in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        lines.append(f"{file.relative_to(folder).as_posix()} {keep(file)['file_sha256']}")
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def resolve(entry: dict) -> Path:
    """The kept file of a logged entry ({"file_sha256", "address"}), checked against its digest."""
    if "address" not in entry:
        raise ArtifactError(f"logged artifact {entry} has no content address (logged before addresses were kept)")
    path = paths.home() / entry["address"]
    if not path.exists():
        raise ArtifactError(f"{path}: the artifact with sha256 {entry['file_sha256'][:16]} is missing")
    actual = file_digest(path)
    if actual != entry["file_sha256"]:
        raise ArtifactError(
            f"{path}: its bytes hash to {actual[:16]}, not the logged {entry['file_sha256'][:16]}: it was altered"
        )
    return path

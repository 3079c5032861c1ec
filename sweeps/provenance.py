"""Which code made a run: the model's source hash, git state, package versions, platform.

A results table must hold the runs of one model. :func:`model_identity` fingerprints the
model's code (the files of the ``model`` package, hashed) and the git state of the checkout;
every results row carries the hash (column ``model_hash``) and the manifest the whole record,
so that a resume, or a Dask worker, running other model code is refused instead of mixing
its rows into the table (:func:`model_difference`, :func:`environment_difference`).

The hash covers every file of the ``model`` package (sorted relative paths, then bytes,
sha256) except compiled files, hidden files and ``app.py``: the view is presentation only
and no run executes it, so a change to it does not make earlier runs another model's.
"""

from __future__ import annotations

import functools
import hashlib
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import model

PACKAGES = (
    "mesa",
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "joblib",
    "dask",
    "distributed",
    "networkx",
)
NOT_THE_MODEL = frozenset({"app.py"})  # relative paths in the package that runs never execute
REPO = Path(__file__).resolve().parent.parent


def _model_files(package: Path) -> list[Path]:
    files = []
    for path in package.rglob("*"):
        rel = path.relative_to(package)
        if (
            path.is_file()
            and "__pycache__" not in rel.parts
            and not any(part.startswith(".") for part in rel.parts)
            and path.suffix not in (".pyc", ".pyo")
            and rel.as_posix() not in NOT_THE_MODEL
        ):
            files.append(path)
    return sorted(files, key=lambda p: p.relative_to(package).as_posix())


def hash_model_sources(package: Path | None = None) -> tuple[str, dict[str, str]]:
    """The sha256 of a model package's files, and each file's own sha256.

    Parameters
    ----------
    package : the package folder (default: the imported ``model`` package's).

    Returns
    -------
    (str, dict[str, str])
        The hash of every file's relative path and bytes, in sorted path order, and
        ``{relative path: sha256 of its bytes}``.
    """
    package = Path(package) if package is not None else Path(model.__file__).resolve().parent
    whole = hashlib.sha256()
    files = {}
    for path in _model_files(package):
        rel = path.relative_to(package).as_posix()
        data = path.read_bytes()
        files[rel] = hashlib.sha256(data).hexdigest()
        for piece in (rel.encode(), data):
            whole.update(len(piece).to_bytes(8, "big"))
            whole.update(piece)
    return whole.hexdigest(), files


@functools.cache
def model_identity() -> dict[str, Any]:
    """The model code of this process: ``{"hash", "files", "git": {"sha", "dirty"}}``.

    Computed once per process (the model is imported once): the hash of
    :func:`hash_model_sources`, each file's hash (to name what changed) and the checkout's
    git sha and dirty flag (``None`` outside a git checkout).
    """
    digest, files = hash_model_sources()
    return {"hash": digest, "files": files, "git": git_state(REPO)}


def model_hash() -> str:
    """The hash of this process's model sources (the ``model_hash`` of its rows)."""
    return model_identity()["hash"]


def git_state(repo: Path) -> dict[str, Any]:
    """``{"sha", "dirty"}`` of the git checkout at ``repo`` (``None`` values if there is none)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()

    try:
        sha = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return {"sha": None, "dirty": None}
    return {"sha": sha, "dirty": dirty}


def environment() -> dict[str, Any]:
    """Versions and platform for a manifest: orgscale, git, model, packages, Python, OS."""
    try:
        version = metadata.version("orgscale")
    except metadata.PackageNotFoundError:
        version = None
    packages = {}
    for name in PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    identity = model_identity()
    return {
        "orgscale_version": version,
        "git": identity["git"],
        "model": identity,
        "packages": packages,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
    }


def describe_model(record: dict[str, Any] | None) -> str:
    """``"model 1a2b3c4d5e6f (git 0123abcd, dirty)"``: a model record in a few words."""
    if not record or not record.get("hash"):
        return "a model whose hash was not recorded"
    git = record.get("git") or {}
    sha = git.get("sha")
    where = f"git {sha[:8]}" if sha else "no git checkout"
    if git.get("dirty"):
        where += ", dirty"
    return f"model {record['hash'][:12]} ({where})"


def model_difference(theirs: dict[str, Any] | None, ours: dict[str, Any]) -> str | None:
    """Why model record ``theirs`` is other code than ``ours`` (``None`` if it is the same).

    Names the files that differ when both records list them.
    """
    if theirs and theirs.get("hash") == ours["hash"]:
        return None
    text = f"{describe_model(theirs)}, not {describe_model(ours)}"
    old, new = (theirs or {}).get("files"), ours.get("files")
    if isinstance(old, dict) and isinstance(new, dict):
        changed = sorted(f for f in set(old) | set(new) if old.get(f) != new.get(f))
        if changed:
            text += f"; files that differ: {', '.join('model/' + f for f in changed)}"
    return text


def environment_difference(theirs: dict[str, Any], ours: dict[str, Any]) -> str | None:
    """What differs between two :func:`environment` records that would change a run's
    result: the model's code, the Python version, a package version (``None``: nothing)."""
    why = model_difference(theirs.get("model"), ours["model"])
    if why is not None:
        return why
    differ = []
    if theirs.get("python") != ours["python"]:
        differ.append(f"Python {theirs.get('python')} (here {ours['python']})")
    packages = theirs.get("packages") or {}
    for name, version in ours["packages"].items():
        if packages.get(name) != version:
            differ.append(f"{name} {packages.get(name)} (here {version})")
    return ", ".join(differ) or None


def portable_path(path: str | Path) -> str:
    """``path`` as recorded in results: relative to the repository when inside it, else its
    file name alone (results carry no absolute paths: they are moved between machines)."""
    if str(path).startswith("<"):  # "<spec>", "<string>": not a file
        return str(path)
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(REPO).as_posix()
    except ValueError:
        return resolved.name


__all__ = [
    "PACKAGES",
    "describe_model",
    "environment",
    "environment_difference",
    "git_state",
    "hash_model_sources",
    "model_difference",
    "model_hash",
    "model_identity",
    "portable_path",
]

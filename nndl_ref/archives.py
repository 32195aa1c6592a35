"""Data archives for chapters 5–8: fetch into a cache with a checksum, unpack safely, label stand-ins.

Chapter-independent and standard-library only. The real data sets (CIFAR-10, IMDB, LCQMC) are fetched
only when an instructor's code asks for them; the kit's tests, ``make`` and the grader never do: they
use small generated stand-ins in the same on-disk format, which carry a ``STAND-IN.txt`` marker so that
every loader can say "stand-in" in what it returns and prints.

Environment: ``NNDL_DATA_HOME`` is the cache folder (default ``~/.cache/nndl``); each data set's
module names its own variable for a local copy (``NNDL_MNIST``, ``NNDL_CIFAR10``, ``NNDL_IMDB``,
``NNDL_LCQMC``).
"""

import hashlib
import io
import os
import shutil
import tarfile
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

CACHE_ENV_VAR = "NNDL_DATA_HOME"
STAND_IN_FILE = "STAND-IN.txt"
_COMPLETE = ".complete"
_CHUNK = 1 << 20


class ChecksumError(ValueError):
    """A fetched or supplied file does not have the expected digest."""


def cache_dir(path=None):
    """The cache folder: ``path``, else ``$NNDL_DATA_HOME``, else ``~/.cache/nndl`` (created)."""
    folder = Path(path or os.environ.get(CACHE_ENV_VAR) or Path.home() / ".cache" / "nndl")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def file_digest(path, algorithm="sha256"):
    """Hex digest of a file, read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _split_checksum(checksum):
    algorithm, _, expected = checksum.partition(":")
    if not expected or algorithm not in hashlib.algorithms_guaranteed:
        raise ValueError(f"checksum must look like 'sha256:<hex>' (or 'md5:<hex>'), got {checksum!r}")
    return algorithm, expected.lower()


def verify(path, checksum):
    """Raise ``ChecksumError`` unless the file's digest equals ``checksum`` ('sha256:<hex>')."""
    algorithm, expected = _split_checksum(checksum)
    actual = file_digest(path, algorithm)
    if actual != expected:
        raise ChecksumError(f"{path}: {algorithm} is {actual}, expected {expected}. The file is "
                            "corrupt, truncated or not the archive this loader expects.")


def fetch(source, checksum, cache=None, filename=None):
    """Return a local path for ``source``, a URL (https/http/file) or a local file path.

    A URL is downloaded into ``cache_dir(cache)`` as ``filename`` (default: the URL's last segment)
    and checked against ``checksum`` ('sha256:<hex>'; 'md5:<hex>' where no SHA-256 is published);
    on a mismatch the partial file is deleted and ``ChecksumError`` raised, so the cache never holds
    a bad file. A cached file that verifies is reused. A local path is returned as it is, checked only
    when ``checksum`` is given (instructor-supplied copies and stand-ins need no official digest).
    """
    scheme = urllib.parse.urlparse(str(source)).scheme
    if scheme not in ("http", "https", "file"):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"no such file: {path}")
        if checksum:
            verify(path, checksum)
        return path
    if not checksum:
        raise ValueError(f"refusing to download {source} without a checksum to verify it against")
    _split_checksum(checksum)
    target = cache_dir(cache) / (filename or Path(urllib.parse.urlparse(source).path).name)
    if target.is_file():
        try:
            verify(target, checksum)
            return target
        except ChecksumError:
            target.unlink()
    fd, partial = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(source) as response:
            shutil.copyfileobj(response, out, _CHUNK)
        verify(partial, checksum)
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return target


def derive(archive, build, cache=None, tag=None):
    """Run ``build(archive, stage)`` once per archive content and return the finished folder.

    The folder is ``cache_dir(cache)/<tag>-<sha256 prefix of the archive>``; ``build`` writes into a
    temporary ``stage`` folder that is renamed into place only when complete, so an interrupted run
    leaves nothing that looks finished, and a stand-in never shadows the real archive.
    """
    archive = Path(archive)
    tag = tag or archive.name.split(".")[0]
    target = cache_dir(cache) / f"{tag}-{file_digest(archive)[:16]}"
    if (target / _COMPLETE).is_file():
        return target
    stage = Path(tempfile.mkdtemp(dir=target.parent, prefix=target.name + ".", suffix=".part"))
    try:
        build(archive, stage)
        (stage / _COMPLETE).touch()
        if target.exists():
            shutil.rmtree(target)
        os.replace(stage, target)
    finally:
        if stage.exists():
            shutil.rmtree(stage)
    return target


def _unpack(archive, stage):
    with tarfile.open(archive) as tar:
        members = []
        for member in tar.getmembers():
            if member.isdir() or member.isfile():
                if Path(member.name).is_absolute() or ".." in Path(member.name).parts:
                    raise ValueError(f"{archive}: unsafe path {member.name!r}")
                members.append(member)
        options = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(stage, members=members, **options)


def extract(archive, cache=None):
    """Unpack a tar archive once into the cache (``derive``) and return that folder. Only regular
    files and folders with relative paths inside the target are written (no links, no ``..``)."""
    return derive(archive, _unpack, cache)


def find_folder(root, marker):
    """The one folder under ``root`` (itself included) that holds a file named ``marker``."""
    found = sorted({path.parent for path in Path(root).rglob(marker)})
    if len(found) != 1:
        raise FileNotFoundError(f"expected exactly one folder with {marker} under {root}, found {found}")
    return found[0]


def stand_in_note(text):
    """The content of a stand-in marker file describing generated data ``text``."""
    return (f"STAND-IN: {text}\nGenerated by the NNDL Practice Kit for tests and offline runs; "
            "not the real data set. Numbers obtained on it are not the book's.\n")


def mark_stand_in(folder, text):
    """Write the stand-in marker into ``folder``: a generated data set, not the real one."""
    (Path(folder) / STAND_IN_FILE).write_text(stand_in_note(text), encoding="utf-8")


def write_tar_gz(path, files):
    """Write a gzip'd tar at ``path`` holding ``files``, ``{member name: str or bytes}``; returns ``path``."""
    with tarfile.open(path, "w:gz") as tar:
        for name, content in files.items():
            data = content.encode("utf-8") if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def is_stand_in(folder):
    return (Path(folder) / STAND_IN_FILE).is_file()


def describe(folder, name, origin):
    """The one-line source label a loader returns and a notebook prints and puts in plot titles."""
    if is_stand_in(folder):
        return f"{name} stand-in (generated, not real data) from {folder}"
    return f"{name} ({origin}) from {folder}"


def resolve_source(path, env_var):
    """``path``, else the environment variable's value, else None (meaning: the official download)."""
    return path if path is not None else os.environ.get(env_var) or None

"""One way to obtain every downloaded file: an offline mirror, the cache, or the network.

:func:`fetch` (and :func:`fetch_file`, which also says where the file came from) looks for
a file in this order and returns the path of the first copy that
passes its checksum:

1. the *mirror*: ``$MLREVIEW_DATA_MIRROR`` if set, else the ``mirror`` argument
   (config ``data.mirror``), as ``<mirror>/<dataset>/<filename>``. A mirror file is read in
   place and never modified or removed (the folder may be read-only);
2. the *cache*: ``<cache_dir>/<filename>``;
3. each URL in turn, downloaded by :func:`pooch.retrieve` into the cache. pooch writes to a
   temporary file in the cache folder and moves it into place only once its hash matches,
   so an interrupted or corrupt download never leaves a file behind.

:func:`fetch_first` takes alternative files (a zip or a plain .gz of the same data): any
local copy of either before any download.

Files without a published checksum (``sha256=None``, e.g. SUSY) are taken as found; their
caller records and checks their provenance (:func:`write_provenance`,
:func:`check_provenance`).

Errors are :class:`DataError` subclasses whose messages say what to do:
:class:`DataUnavailable` (no copy anywhere: the URLs tried, and where to put the file by
hand), :class:`ChecksumMismatch` (expected and actual sha256), :class:`ProvenanceMismatch`
and :class:`DataFormatError` (a file that cannot be read as the format it claims).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pooch

from mlreview.errors import MlreviewError
from mlreview.io import load_json, save_json

#: Environment variable naming a mirror folder; it takes precedence over ``data.mirror``.
ENV_MIRROR = "MLREVIEW_DATA_MIRROR"

log = logging.getLogger(__name__)

_READ_BLOCK = 1 << 20  # bytes per read when hashing; download chunk size


class DataError(MlreviewError):
    """Base class of the data-access errors."""


class DataUnavailable(DataError):
    """No copy of a file could be found or downloaded."""


class ChecksumMismatch(DataError):
    """A file's sha256 differs from the expected one."""

    def __init__(self, message: str, *, expected: str, actual: str, path: str | None = None):
        super().__init__(message)
        self.expected, self.actual, self.path = expected, actual, path


class ProvenanceMismatch(DataError):
    """A file without a published checksum no longer matches its recorded provenance."""


class DataFormatError(DataError):
    """A file is truncated, corrupt or not in the expected format."""


@dataclass(frozen=True)
class Fetched:
    """Where a file was found: ``source`` is ``"mirror"``, ``"cache"`` or ``"url"``;
    ``url`` is the URL it was downloaded from (``None`` unless ``source == "url"``);
    ``sha256`` its hash (computed whenever the file was read for it, else ``None``);
    ``verified`` whether it matched a known checksum."""

    path: Path
    source: str
    url: str | None
    sha256: str | None
    verified: bool


def sha256_of(path: str | os.PathLike) -> str:
    """The sha256 hex digest of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_READ_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def mirror_root(mirror: str | os.PathLike | None = None) -> Path | None:
    """The mirror folder in effect: ``$MLREVIEW_DATA_MIRROR`` if set and non-empty, else ``mirror``."""
    env = os.environ.get(ENV_MIRROR, "").strip()
    if env:
        return Path(env).expanduser()
    return Path(mirror).expanduser() if mirror not in (None, "") else None


def full_url(url: str, filename: str) -> str:
    """A base URL ending in ``/`` gets the file name appended; a full URL is used as is."""
    return f"{url}{filename}" if url.endswith("/") else url


def _mismatch(path: Path, where: str, expected: str, actual: str, extra: str = "") -> ChecksumMismatch:
    return ChecksumMismatch(
        f"checksum mismatch for {path.name} ({where}: {path}):\n"
        f"  expected sha256 {expected}\n"
        f"  actual   sha256 {actual}\n"
        f"The file is corrupt, incomplete or a different version.{extra}",
        expected=expected,
        actual=actual,
        path=str(path),
    )


class _HashingDownloader:
    """pooch's HTTP downloader, remembering the sha256 and size of what it wrote."""

    def __init__(self, progressbar: bool):
        self.inner = pooch.HTTPDownloader(progressbar=progressbar, chunk_size=_READ_BLOCK)
        self.sha256: str | None = None
        self.size: int | None = None

    def __call__(self, url, output_file, pooch_obj, check_only=False):
        result = self.inner(url, output_file, pooch_obj, check_only=check_only)
        if not check_only:
            self.sha256 = sha256_of(output_file)
            self.size = os.path.getsize(output_file)
        return result


@contextmanager
def _quiet_pooch() -> Iterator[None]:
    """pooch logs to its own stderr handler; our log lines say the same in the step's log."""
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _one_line(err: BaseException) -> str:
    """One line for the error report; for a requests connection error, its root reason
    (e.g. "Failed to resolve 'host'", "Connection refused") rather than the retry wrapper."""
    reason = getattr(err.args[0], "reason", None) if err.args else None
    text = " ".join(str(reason if reason is not None else err).split())
    return f"{type(err).__name__}: {text[:300]}"


def _find_local(filename: str, expected: str | None, dataset: str, cache_dir: Path,
                root: Path | None) -> Fetched | None:
    """The mirror copy, else the cache copy, if present and verified; else None.

    A mirror copy with the wrong checksum raises (and stays untouched); a cache copy with
    the wrong checksum is removed so that it is downloaded again.
    """
    if root is not None:
        candidate = root / dataset / filename
        if candidate.is_file():
            actual = sha256_of(candidate) if expected else None
            if expected and actual != expected:
                raise _mismatch(
                    candidate, "mirror", expected, actual,
                    " The mirror file was left as it is; replace it with the canonical file.",
                )
            log.info("%s: using the mirror copy %s%s", filename, candidate,
                     " (sha256 verified)" if expected else "")
            return Fetched(candidate, "mirror", None, actual, bool(expected))
        log.info("%s: not in the mirror (%s)", filename, candidate)
    cached = cache_dir / filename
    if cached.is_file():
        if not expected:
            log.info("%s: using the cached copy %s", filename, cached)
            return Fetched(cached, "cache", None, None, False)
        actual = sha256_of(cached)
        if actual == expected:
            log.info("%s: using the cached copy %s (sha256 verified)", filename, cached)
            return Fetched(cached, "cache", None, actual, True)
        log.warning("%s: the cached copy %s has sha256 %s, expected %s; removing it to download it again",
                    filename, cached, actual, expected)
        cached.unlink()
    return None


def _download(filename: str, url: str, expected: str | None, cache_dir: Path,
              failures: list[str]) -> Fetched | None:
    """Download ``url`` into ``<cache_dir>/<filename>`` with pooch; None (and a line in
    ``failures``) when the URL cannot be read; :class:`ChecksumMismatch` on a wrong hash."""
    progressbar = sys.stderr.isatty()
    downloader = _HashingDownloader(progressbar)
    log.info("%s: downloading %s into %s", filename, url, cache_dir)
    try:
        with _quiet_pooch():
            path = pooch.retrieve(
                url,
                known_hash=f"sha256:{expected}" if expected else None,
                fname=filename,
                path=cache_dir,
                downloader=downloader,
                progressbar=progressbar,
            )
    except Exception as err:  # network and HTTP status errors (requests), OS errors, hash mismatch
        # pooch raises ValueError on a hash mismatch, after deleting the temporary download.
        if isinstance(err, ValueError) and expected and downloader.sha256 and downloader.sha256 != expected:
            raise _mismatch(
                cache_dir / filename, f"downloaded from {url}", expected, downloader.sha256,
                " The download was deleted; nothing was kept in the cache.",
            ) from err
        failures.append(f"{url}: {_one_line(err)}")
        log.warning("%s: %s failed (%s)", filename, url, _one_line(err))
        return None
    log.info("%s: downloaded %s bytes from %s (sha256 %s%s)", filename, downloader.size, url,
             downloader.sha256, ", verified" if expected else "")
    return Fetched(Path(path), "url", url, downloader.sha256, bool(expected))


def fetch_first(
    candidates: Sequence[tuple[str, str]],
    *,
    dataset: str,
    cache_dir: str | os.PathLike,
    mirror: str | os.PathLike | None = None,
    sha256: str | None = None,
) -> Fetched:
    """The first available of several alternative files, given as ``(filename, url)`` pairs
    (e.g. a zip and a plain .gz of the same data): every local copy (mirror, then cache,
    in the order given) is preferred to any download; downloads are tried in order."""
    cache_dir = Path(cache_dir)
    expected = sha256.lower() if sha256 else None
    root = mirror_root(mirror)
    for filename, _ in candidates:
        found = _find_local(filename, expected, dataset, cache_dir, root)
        if found is not None:
            return found
    failures: list[str] = []
    for filename, url in candidates:
        got = _download(filename, full_url(url, filename), expected, cache_dir, failures)
        if got is not None:
            return got
    raise DataUnavailable(_unavailable_message([name for name, _ in candidates], dataset, root, cache_dir,
                                               failures))


def fetch_file(
    filename: str,
    *,
    urls: Sequence[str],
    sha256: str | None,
    dataset: str,
    cache_dir: str | os.PathLike,
    mirror: str | os.PathLike | None = None,
) -> Fetched:
    """Like :func:`fetch`, and also say where the file came from (see :class:`Fetched`)."""
    cache_dir = Path(cache_dir)
    expected = sha256.lower() if sha256 else None
    root = mirror_root(mirror)
    found = _find_local(filename, expected, dataset, cache_dir, root)
    if found is not None:
        return found
    failures: list[str] = []
    for url in urls:
        got = _download(filename, full_url(url, filename), expected, cache_dir, failures)
        if got is not None:
            return got
    raise DataUnavailable(_unavailable_message([filename], dataset, root, cache_dir, failures))


def _unavailable_message(filenames, dataset, root, cache_dir, failures) -> str:
    tried = "\n".join(f"  - {line}" for line in failures) or "  (no URLs configured)"
    names = " or ".join(filenames)
    base = root if root is not None else Path("<mirror>")
    places = " or ".join(str(base / dataset / name) for name in filenames)
    cached = " or ".join(str(cache_dir / name) for name in filenames)
    if root is not None:
        where = f"The mirror {root} has no {places}."
        todo = f"To work offline, put the file by hand at {places} (or copy it to {cached})."
    else:
        where = f"No mirror is set (environment variable {ENV_MIRROR}, or config data.mirror)."
        todo = (f"To work offline, put the file by hand at {places} and set {ENV_MIRROR}=<mirror> "
                f"(or config data.mirror: <mirror>), or copy it to {cached}.")
    return (
        f"cannot obtain {names} (data set {dataset!r}).\n"
        f"{where}\nNot in the cache ({cached}).\nDownloads tried:\n{tried}\n{todo}"
    )


def fetch(
    filename: str,
    *,
    urls: Sequence[str],
    sha256: str | None,
    dataset: str,
    cache_dir: str | os.PathLike,
    mirror: str | os.PathLike | None = None,
) -> Path:
    """The path of a verified copy of ``filename``: from the mirror, the cache or a URL.

    ``urls`` are tried in order; one ending in ``/`` is a base URL to which ``filename``
    is appended. ``sha256=None`` skips verification (record provenance instead).
    Raises :class:`ChecksumMismatch` or :class:`DataUnavailable`.
    """
    return fetch_file(filename, urls=urls, sha256=sha256, dataset=dataset, cache_dir=cache_dir,
                      mirror=mirror).path


# --- provenance of files without a published checksum -------------------------------------

def provenance_path(path: str | os.PathLike) -> Path:
    """``<file>.provenance.json``, next to the file."""
    path = Path(path)
    return path.with_name(path.name + ".provenance.json")


def write_provenance(record_path: str | os.PathLike, fetched: Fetched) -> dict:
    """Record url, size, sha256 and the UTC time of a file, at ``record_path``."""
    sha = fetched.sha256 or sha256_of(fetched.path)
    record = {
        "file": fetched.path.name,
        "url": fetched.url if fetched.url else fetched.path.resolve().as_uri(),
        "source": fetched.source,
        "size": fetched.path.stat().st_size,
        "sha256": sha,
        "recorded_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    save_json(record_path, record)
    log.info("%s: provenance recorded in %s", fetched.path.name, record_path)
    return record


def check_provenance(record_path: str | os.PathLike, path: str | os.PathLike) -> dict:
    """Check size and sha256 of ``path`` against its record; return the record.

    Raises :class:`ProvenanceMismatch` naming the differences and what to do.
    """
    record = load_json(record_path)
    path = Path(path)
    size = path.stat().st_size
    problems = []
    if size != record.get("size"):
        problems.append(f"size {size} bytes, recorded {record.get('size')}")
    else:
        sha = sha256_of(path)
        if sha != record.get("sha256"):
            problems.append(f"sha256 {sha}, recorded {record.get('sha256')}")
    if problems:
        raise ProvenanceMismatch(
            f"{path} does not match its provenance record {record_path} "
            f"(downloaded from {record.get('url')} at {record.get('recorded_utc')}): "
            + "; ".join(problems)
            + ". The file was not used. If it is damaged, delete it and the record to download it "
            "again; if the source really changed, delete the record to accept the new file."
        )
    log.info("%s: size and sha256 match the provenance record %s", path.name, record_path)
    return record

"""Model specs -> local model directories (bundled, a path, a trained run, a Hub repo@revision).

Downloads go through huggingface_hub and its cache, with a timeout on every
request, and every downloaded file a model loads is checked against its
content address (SHA-256 for LFS files, the git blob id for the others) and
then against the model's own checksums.json before it is reported ready; a
file that fails is removed from the cache and fetched once more.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import logging
import os
import re
import threading
from pathlib import Path

from cfgen.model_files.bundle import CHECKSUMS, CONFIG, LOADED, verify_checksums
from cfgen.errors import (
    CfgenError,
    CorruptModelError,
    DownloadInterrupted,
    ModelNotAvailableError,
    NetworkError,
    OfflineCacheMissError,
    UnknownModelError,
    UsageError,
)
from cfgen.model_files.files import first_line
from cfgen.model_files.paths import BUNDLED_NAME

logger = logging.getLogger(__name__)

MODEL_FILES = [*LOADED, CHECKSUMS]


def bundled_directory() -> Path:
    return Path(__file__).resolve().parent.parent / "weights" / "default"


def default_model_directory() -> Path:
    """The model shipped inside the package (no network needed)."""
    directory = bundled_directory()
    if not (directory / CONFIG).is_file():
        raise ModelNotAvailableError(
            "this install has no bundled model; train one (cfgen train NAME --data DIR) and pass --model NAME, "
            "or download one with cfgen pull OWNER/NAME"
        )
    return directory


def _is_directory(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a name too long for the file system is no directory
        return False


def resolve_model_directory(spec: str | os.PathLike) -> Path:
    """A local directory as is; `default` (as `cfgen models` lists it) the bundled model; a bare name as a `cfgen
    train` run; `owner/name[@revision]` through the Hub cache."""
    local = Path(spec).expanduser()
    if _is_directory(local):
        return local
    spec = str(spec)
    if spec == BUNDLED_NAME:
        return default_model_directory()
    if "/" not in spec and "@" not in spec:
        from cfgen.model_files.paths import runs_directory

        trained = runs_directory() / spec
        if _is_directory(trained):
            return trained
        raise ModelNotAvailableError(f"no model named {spec[:100]!r}: not a directory, nor a run of `cfgen train`")
    if spec.startswith((".", "/", "~")):
        raise ModelNotAvailableError(
            f"model {spec[:100]!r} is neither a directory nor a Hub repo id (owner/name[@revision])"
        )
    return pull(*parse_repo_spec(spec), verify=False)  # loading it checks every file against its checksums


REVISION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,199}")


def parse_repo_spec(spec: str) -> tuple[str, str | None]:
    """`owner/name[@revision]` -> (repo id, revision or None); UsageError (exit 2) if it is no valid Hub id."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    repo_id, at, revision = spec.partition("@")
    problem = None
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        problem = "it is not owner/name"
    else:
        try:
            validate_repo_id(repo_id)
        except HFValidationError as error:
            problem = first_line(error, 160)
    if problem is None and at and (not REVISION.fullmatch(revision) or ".." in revision):
        problem = "the revision after @ is not a branch, tag or commit name"
    if problem:
        raise UsageError(f"{spec[:100]!r} is not a Hub model id (owner/name[@revision]): {problem}")
    return repo_id, revision or None


@functools.cache
def _use_timeouts() -> None:
    """huggingface_hub sends its requests with no timeout, so a server that accepts and never answers hangs it
    forever: every request it makes gets a connect/read timeout unless it set one itself."""
    import httpx2
    from huggingface_hub import constants
    from huggingface_hub.utils import _http

    seconds = float(max(constants.HF_HUB_DOWNLOAD_TIMEOUT, constants.HF_HUB_ETAG_TIMEOUT, 1))

    def bounded(request) -> None:
        limits = dict(request.extensions.get("timeout") or {})
        request.extensions["timeout"] = {
            key: limits.get(key) or seconds for key in ("connect", "read", "write", "pool")
        }

    hooks = [bounded] + ([_http.hf_request_event_hook] if hasattr(_http, "hf_request_event_hook") else [])
    _http.set_client_factory(
        lambda: httpx2.Client(event_hooks={"request": hooks}, follow_redirects=True, timeout=httpx2.Timeout(seconds))
    )


def pull(repo_id: str, revision: str | None = None, progress: bool = False, verify: bool = True) -> Path:
    """Download (or find in the HF cache) a model snapshot and, if `verify`, check every file it loads.

    A file that fails verification is removed from the cache and fetched once more before giving up.
    Without `verify` (a --model spec about to be loaded) the files are left to the load's own
    checksum check, so that a cold start hashes them once.
    """
    try:
        directory = _download(repo_id, revision, progress)
        if not verify:
            if not (directory / CONFIG).is_file():
                raise ModelNotAvailableError(f"{repo_id} has no config.json: not a cfgen model")
            return directory
        removed = remove_corrupt_blobs(directory)
        if removed:
            logger.warning("%s failed verification and was fetched again", ", ".join(removed))
            directory = _download(repo_id, revision, progress)
            removed = remove_corrupt_blobs(directory)
            if removed:
                raise CorruptModelError(
                    f"{', '.join(removed)} of {repo_id} failed its hash check twice and was removed; "
                    "run cfgen pull again later"
                )
        if not (directory / CONFIG).is_file():
            raise ModelNotAvailableError(f"{repo_id} has no config.json: not a cfgen model")
        verify_checksums(directory)
    except RecursionError:
        raise NetworkError(f"the Hub's answer for {repo_id} could not be read") from None
    return directory


def _download(repo_id: str, revision: str | None, progress: bool) -> Path:
    import httpx2
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        HfHubHTTPError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )
    from huggingface_hub.utils import disable_progress_bars, enable_progress_bars

    where = f"{repo_id}@{revision}" if revision else repo_id
    enable_progress_bars() if progress else disable_progress_bars()
    if not logger.isEnabledFor(logging.DEBUG):  # its retries are noise; the outcome is reported in one line
        import warnings

        from huggingface_hub.utils import logging as hub_logging

        hub_logging.set_verbosity_error()
        warnings.filterwarnings("ignore", "Not enough free disk space", UserWarning)  # a full disk: see below
    _use_timeouts()
    try:
        return Path(_interruptible(lambda: snapshot_download(repo_id, revision=revision, allow_patterns=MODEL_FILES)))
    except RevisionNotFoundError:
        raise UnknownModelError(f"{repo_id} has no revision {revision!r} on the Hub") from None
    except RepositoryNotFoundError:
        raise UnknownModelError(f"no model repository {repo_id} on the Hub (or it is private: set HF_TOKEN)") from None
    except LocalEntryNotFoundError:
        if _offline():
            raise OfflineCacheMissError(
                f"{where} is not in the Hugging Face cache and HF_HUB_OFFLINE is set; unset it and run cfgen pull first"
            ) from None
        raise NetworkError(
            f"cannot reach the Hub for {where}, and it is not cached; check the network or HF_ENDPOINT"
        ) from None
    except HFValidationError as error:
        raise UsageError(f"{where!r} is not a Hub model id: {first_line(error, 160)}") from None
    except HfHubHTTPError as error:
        raise NetworkError(f"the Hub answered {where} with an error: {first_line(error)}") from None
    except httpx2.TimeoutException:
        raise NetworkError(
            f"the Hub did not answer in time for {where}; check the network or HF_ENDPOINT, then run again to resume"
        ) from None
    except (
        httpx2.HTTPError,
        httpx2.StreamError,
        OSError,
        ValueError,
        EOFError,
    ) as error:  # broken-off transfers, resets
        _raise_local_cause(error, where)
        reason = first_line(error, 160)
        raise NetworkError(f"downloading {where} failed ({reason}); run again to resume") from None


# errno of a cache that cannot be written: read-only or no permission, full disk or quota, file size limit
_UNWRITABLE, _FULL = {errno.EACCES, errno.EPERM, errno.EROFS}, {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def _raise_local_cause(error: Exception, where: str) -> None:
    """The failures of a download that are not the network's: a cache that cannot be written (exit 1), a
    repository listing files outside itself (exit 6). Running again would not help either."""
    from huggingface_hub import constants

    if isinstance(error, OSError) and error.errno in _UNWRITABLE | _FULL:
        why = "the disk is full" if error.errno in _FULL else "it cannot be written (read-only or no permission)"
        raise CfgenError(
            f"cannot download {where} into the Hugging Face cache ({constants.HF_HUB_CACHE}): {why}; "
            "free space or point HF_HOME elsewhere"
        ) from None
    if isinstance(error, ValueError) and "Invalid filename" in str(error):
        raise CorruptModelError(f"{where} lists a file outside its own folder ({first_line(error, 120)}); refused")


def _interruptible(download):
    """download() in a worker thread, so that Ctrl-C stops the wait at once (huggingface_hub's own download
    threads cannot be stopped: the CLI ends the process without waiting for them; a rerun resumes)."""
    outcome: dict = {}

    def work() -> None:
        try:
            outcome["value"] = download()
        except BaseException as failure:  # noqa: BLE001 - handed to the waiting thread as it is
            outcome["error"] = failure

    worker = threading.Thread(target=work, daemon=True, name="cfgen-download")
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.1)
    except KeyboardInterrupt:
        raise DownloadInterrupted("download interrupted; run the same command again to resume it") from None
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def _content_address(data_path: Path, name: str) -> str | None:
    """What a cached blob's content hashes to, in the form of its name (SHA-256 or git blob id), if it has one."""
    from cfgen.model_files.files import hash_file

    if re.fullmatch(r"[0-9a-f]{64}", name):
        return hash_file(data_path)
    if re.fullmatch(r"[0-9a-f]{40}", name):
        return hash_file(data_path, hashlib.sha1(b"blob %d\0" % data_path.stat().st_size))
    return None


def remove_corrupt_blobs(directory: Path) -> list[str]:
    """Check each cached file against its blob's name (LFS: SHA-256; other files: git blob id).

    huggingface_hub checks sizes, not contents. A blob that fails is removed
    (blob and link), so the next download fetches it again; returns the names removed.
    """
    removed = []
    for link in sorted(p for p in Path(directory).rglob("*") if p.is_file()):
        blob = link.resolve()
        actual = _content_address(blob, blob.name)
        if actual is not None and actual != blob.name:
            blob.unlink(missing_ok=True)
            link.unlink(missing_ok=True)
            removed.append(link.relative_to(directory).as_posix())
    return removed

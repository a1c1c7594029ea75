"""Exceptions that the command line turns into one line on stderr.

Each carries the exit code it maps to; `EXIT_CODES` is the one table of what
each code means, from which the CLI's help text is written.
"""

import os
import re

EXIT_CODES: dict[int, str] = {
    0: "success",
    1: "runtime failure (bad data file, corrupt checkpoint, disk full, run folder in use)",
    2: ("bad usage or input (empty query, unknown --lang or --device, a language the model does not write, "
        "bad Hub id, no requests on stdin)"),
    3: "model not available (no bundled model, no such directory or run, missing file)",
    4: "network failure (Hub unreachable or not answering, download broke off: run again to resume)",
    5: "some batch lines rejected (the others were answered)",
    6: "corrupt or unverifiable model files (checksum mismatch, no checksums.json, truncated or malformed file)",
    7: "unknown Hub repository or revision",
    8: "offline (HF_HUB_OFFLINE=1) and the model is not in the cache",
    130: "interrupted (training saved a checkpoint first; batch answers so far were written)",
    141: "the reader of the output went away (piped into head, say); nothing is said",
    143: "training stopped by SIGTERM (a checkpoint was saved first: --resume goes on)",
}


def exit_codes_help() -> str:
    return "Exit codes: " + "; ".join(f"{code} {meaning}" for code, meaning in EXIT_CODES.items()) + "."


class CfgenError(Exception):
    """A failure the user can act on; the message says what to do."""

    exit_code = 1


class UsageError(CfgenError):
    """Bad usage or input: an option value, a Hub id, an empty batch."""

    exit_code = 2


class DataError(CfgenError):
    """A data file is missing, malformed or empty."""


class RunInUseError(CfgenError):
    """Another cfgen process holds this run folder."""


class ModelNotAvailableError(CfgenError):
    """No model could be found or loaded (missing or mismatched)."""

    exit_code = 3


class EncoderError(ModelNotAvailableError):
    """The NL encoder could not be resolved or failed its hash check."""


class CheckpointError(CfgenError):
    """A training checkpoint is corrupt, cannot be written, or does not match the run."""


class NetworkError(CfgenError):
    """The Hub could not be reached, did not answer, or a download broke off."""

    exit_code = 4


class CorruptModelError(ModelNotAvailableError):
    """Model files are truncated, malformed, unverifiable or do not match their hashes."""

    exit_code = 6


class UnknownModelError(ModelNotAvailableError):
    """The Hub has no such repository or revision."""

    exit_code = 7


class OfflineCacheMissError(ModelNotAvailableError):
    """Offline (HF_HUB_OFFLINE) and the model is not in the cache."""

    exit_code = 8


class Interrupted(CfgenError):
    """Ctrl-C: what could be kept was kept."""

    exit_code = 130


class DownloadInterrupted(Interrupted):
    """Ctrl-C during a download: the process must end without waiting for huggingface_hub's download threads."""


def _is_command_line_error(failure: BaseException) -> bool:
    """A failure of click's option parsing (an unknown option, a value out of an option's range): click's
    ClickException, or the copy of it that newer typer versions carry (typer._click), which is no click class."""
    return any(kind.__name__ == "ClickException" for kind in type(failure).__mro__)


def exit_code_of(failure: BaseException) -> int:
    """The exit code (EXIT_CODES) of any failure: a CfgenError's own, click's (2 for bad usage), 130 for
    Ctrl-C, else 1."""
    if isinstance(failure, KeyboardInterrupt):
        return Interrupted.exit_code
    if _is_command_line_error(failure):
        return getattr(failure, "exit_code", 2)
    if isinstance(failure, BrokenPipeError):
        return 141  # 128 + SIGPIPE, as a shell reports a command its pipe's reader closed on
    return getattr(failure, "exit_code", 1) if isinstance(failure, CfgenError) else 1


def describe(failure: BaseException) -> str:
    """One line for any failure: a CfgenError's own message, an OS error's reason and file, else what broke."""
    if isinstance(failure, KeyboardInterrupt):
        return "interrupted"
    if isinstance(failure, CfgenError):
        return str(failure)
    if _is_command_line_error(failure):
        return failure.format_message()  # type: ignore[attr-defined]
    if isinstance(failure, OSError):  # names too long, permissions, disk full
        where = f" ({failure.filename})" if getattr(failure, "filename", None) else ""
        return f"{failure.strerror or failure}{where}"[:400]
    os_error = re.search(r"\(os error (\d+)\)", str(failure))  # a Rust library's I/O failure (safetensors)
    if os_error is not None:
        return f"cannot write or read a file: {os.strerror(int(os_error.group(1)))}"
    if isinstance(failure, (MemoryError, RecursionError)):
        return f"out of {'memory' if isinstance(failure, MemoryError) else 'stack'}; try a smaller input"
    return f"internal error ({type(failure).__name__}: {str(failure)[:200]}); --debug shows the traceback"

"""Exceptions that the command line turns into one line on stderr.

Each carries the exit code it maps to, so the CLI needs no lookup table.
"""


class CfgenError(Exception):
    """A failure the user can act on; the message says what to do."""

    exit_code = 1


class DataError(CfgenError):
    """A data file is missing, malformed or empty."""


class ModelNotAvailableError(CfgenError):
    """No model could be found or loaded (missing, corrupt or mismatched)."""

    exit_code = 3


class EncoderError(ModelNotAvailableError):
    """The NL encoder could not be resolved or failed its hash check."""


class CheckpointError(CfgenError):
    """A training checkpoint is corrupt or does not match the run."""


class NetworkError(CfgenError):
    """The Hub could not be reached, or a download broke off."""

    exit_code = 4


class CorruptModelError(ModelNotAvailableError):
    """Model files are truncated or do not match their hashes."""

    exit_code = 6


class UnknownModelError(ModelNotAvailableError):
    """The Hub has no such repository or revision."""

    exit_code = 7


class OfflineCacheMissError(ModelNotAvailableError):
    """Offline (HF_HUB_OFFLINE) and the model is not in the cache."""

    exit_code = 8

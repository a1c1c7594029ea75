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

"""The environment variables cfgen and huggingface_hub read, checked before either acts on them.

huggingface_hub reads its settings when first imported and, given a value it cannot read (a timeout of "abc"),
prints a message on stdout, where cfgen's answers go, then fails deep inside a command. Checked here first,
a bad value is one line and exit 2 (UsageError), whichever command runs.
"""

from __future__ import annotations

import os
from pathlib import Path

from cfgen.errors import UsageError

WHOLE_SECONDS = ("HF_HUB_DOWNLOAD_TIMEOUT", "HF_HUB_ETAG_TIMEOUT")
FOLDERS = ("HF_HOME", "HF_HUB_CACHE", "CFGEN_HOME", "XDG_CACHE_HOME")


def check_environment() -> None:
    """UsageError naming the first variable that holds what its reader cannot use."""
    for name in WHOLE_SECONDS:
        value = os.environ.get(name, "").strip()
        if value and not (value.isascii() and value.isdigit()):
            raise UsageError(
                f"{name}={value[:40]!r} is not a whole number of seconds: set it to one (say 10) or unset it")
    for name in FOLDERS:
        value = os.environ.get(name)
        if value and Path(value).exists() and not Path(value).is_dir():
            raise UsageError(f"{name}={value[:200]!r} is a file, not a folder: point it at a folder or unset it")

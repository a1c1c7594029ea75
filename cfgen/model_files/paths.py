"""Where cfgen keeps its own files (platformdirs), apart from the HF cache."""

from __future__ import annotations

import os
from pathlib import Path


def runs_directory() -> Path:
    """Models trained with `cfgen train NAME` live here, one folder per name."""
    override = os.environ.get("CFGEN_HOME")
    if override:
        return Path(override) / "runs"
    import platformdirs

    return Path(platformdirs.user_data_dir("cfgen")) / "runs"


BUNDLED_NAME = "default"  # the bundled model's name wherever a model is named (a run may not take it)


def run_path(name_or_path: str) -> Path:
    """A bare name (`my-model`) is a run under runs_directory(); anything with a slash is a path."""
    if os.sep in name_or_path or name_or_path.startswith((".", "~")):
        return Path(name_or_path).expanduser()
    if name_or_path == BUNDLED_NAME:
        from cfgen.errors import UsageError

        raise UsageError(f"{BUNDLED_NAME!r} names the bundled model; give the run another name")
    return runs_directory() / name_or_path

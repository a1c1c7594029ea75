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


def run_path(name_or_path: str) -> Path:
    """A bare name (`my-model`) is a run under runs_directory(); anything with a slash is a path."""
    if os.sep in name_or_path or name_or_path.startswith((".", "~")):
        return Path(name_or_path).expanduser()
    return runs_directory() / name_or_path

"""`cfgen pull` and `cfgen models`: fetch a model from the Hub, list the models this machine has."""

from __future__ import annotations

from typing import Annotated

import typer

from cfgen.answering.render import info, stderr

RepoSpec = Annotated[str, typer.Argument(help="Hub repo id, optionally @revision (branch, tag or commit).")]


def pull(spec: RepoSpec) -> None:
    """Download a model into the Hugging Face cache (HF_HOME, HF_ENDPOINT, HF_TOKEN apply) and verify it."""
    from cfgen.model_files.hub import parse_repo_spec
    from cfgen.model_files.hub import pull as pull_model

    directory = pull_model(*parse_repo_spec(spec), progress=stderr.is_terminal)
    info(f"{spec} is ready at {directory}")


def models() -> None:
    """List the bundled model, models in the Hugging Face cache, and models trained here."""
    from cfgen.answering import render
    from cfgen.model_files.listing import list_models

    render.models(list_models())

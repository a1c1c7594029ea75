"""`cfgen export`: copy a model into a clean model folder (half precision, a new index, tuned retrieval)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from cfgen.commands.options import AllowUnverified, Overwrite, PagesDev
from cfgen.answering.render import info

Source = Annotated[str, typer.Argument(
    help="Model directory, trained run name, a run's checkpoint (RUN/checkpoints/step-N), or Hub repo[@revision].")]
Destination = Annotated[Path, typer.Argument(help="Directory to write (e.g. cfgen/weights/default to bundle it).")]
Half = Annotated[bool, typer.Option(help="Store the weights in float16 (half the size; loads as float32 on CPU).")]
ShardSize = Annotated[str, typer.Option(help="Largest weights file written.")]
IndexFrom = Annotated[List[Path], typer.Option(
    metavar="DIR", help="Build the retrieval index from this CodeFusion data folder or folder of tldr-style pages "
                        "(repeatable); without --tune-retrieval the model's retrieval head, if it has one, serves "
                        "the new index.")]
Strengths = Annotated[List[str], typer.Option(
    "--strength", help="LANG=S: default edit strength for a language, chosen on dev (repeatable; others keep the "
                       "source's).")]
TuneRetrieval = Annotated[List[str], typer.Option(
    help="LANG: train a retrieval head for this language on the --index-from train split (repeatable).")]
TuneSteps = Annotated[int, typer.Option(min=1, help="Training steps of the retrieval head.")]
Lengths = Annotated[List[str], typer.Option(
    "--length", help="LANG=N: positions the sampler denoises for LANG (shorter is faster; a longer program cannot "
                     "be written; repeatable).")]
AddPairs = Annotated[List[Path], typer.Option(
    metavar="FILE", help="Add the pairs of this JSON Lines file ({nl, code, lang}, as cfgen train --pairs reads) to "
                         "the model's index (repeatable): only their requests are encoded.")]
IndexOf = Annotated[Optional[str], typer.Option(
    metavar="MODEL", help="Take the retrieval index (and retrieval head) of this model as it is, e.g. to put a "
                          "retrained network beside the bundled model's index (default: the source's).")]
AddPages = Annotated[List[Path], typer.Option(
    metavar="DIR", help="Add every example of this folder of tldr-style pages to the model's index as it is "
                        "(repeatable): only the new requests are encoded.")]


def export(
    model: Source,
    output: Destination,
    half: Half = True,
    max_shard_size: ShardSize = "16MB",
    index_from: IndexFrom = [],  # noqa: B006 - typer's way to declare a repeatable option
    strength: Strengths = [],  # noqa: B006
    tune_retrieval: TuneRetrieval = [],  # noqa: B006
    tune_steps: TuneSteps = 300,
    pages_dev: PagesDev = False,
    add_pages: AddPages = [],  # noqa: B006
    add_pairs: AddPairs = [],  # noqa: B006
    index_of: IndexOf = None,
    length: Lengths = [],  # noqa: B006
    overwrite: Overwrite = False,
    allow_unverified: AllowUnverified = False,
) -> None:
    """Copy a model into a clean model directory (no checkpoints), optionally in half precision."""
    from cfgen.model_files.bundle import model_size_mb
    from cfgen.model_files.export import ExportRequest, export_model, parse_lengths, parse_strengths, tuned_languages
    from cfgen.model_files.hub import resolve_model_directory

    tuned, strengths = tuned_languages(tune_retrieval), parse_strengths(strength)
    request = ExportRequest(resolve_model_directory(model), output, half, max_shard_size, index_from, tuned,
                            tune_steps, strengths, overwrite, verify=not allow_unverified, page_dev=pages_dev,
                            add_pages=add_pages, index_of=resolve_model_directory(index_of) if index_of else None,
                            add_pairs=add_pairs, lengths=parse_lengths(length))
    export_model(request)
    info(f"wrote {output} ({model_size_mb(output):.1f} MB, {'float16' if half else 'float32'})")

"""The command line's shared options: each declared and checked once (a bad value is one line, exit 2), for
the commands in cli.py to annotate their parameters with."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from cfgen.errors import UsageError
from cfgen.languages import check_language, language_names
from cfgen.runtime import DEVICES
from cfgen.training.tldr import PLATFORMS

MAX_CANDIDATES = 100  # -n bound: memory grows with it
MAX_SEED = 2**63 - 1


def one_of(choices: tuple[str, ...], what: str):
    def check(value: str | None) -> str | None:
        if value is not None and value not in choices:
            raise UsageError(f"unknown {what} {value[:40]!r}; choose one of {', '.join(choices)}")
        return value
    return check


def choices(names) -> callable:
    """Shell completion of a fixed set of values (not file names)."""
    return lambda: list(names)


def within(low: int, high: int | None, name: str):
    def check(value: int | None) -> int | None:
        if value is not None and high is None and value < low:
            raise UsageError(f"{name} must be at least {low}")
        if value is not None and high is not None and not low <= value <= high:
            raise UsageError(f"{name} must be from {low} to {high}")
        return value
    return check


def learning_rate_option(value: float) -> float:
    if not 0 < value <= 1:  # NaN fails both comparisons
        raise UsageError(f"--lr must be above 0 and at most 1, got {value}")
    return value


# Options shared by several commands, each declared and validated once (bad values: one line, exit 2).
def language_option(value: str | None) -> str | None:
    return None if value is None else check_language(value, UsageError)


_LANGUAGE_CHOICES = ", ".join(language_names()[:-1]) + " or " + language_names()[-1]  # from the registry
Lang = Annotated[str, typer.Option("--lang", "-l", help=f"{_LANGUAGE_CHOICES} (any case).", callback=language_option,
                                   autocompletion=lambda: list(language_names()))]
GuessedLang = Annotated[Optional[str], typer.Option(
    "--lang", "-l", help=f"{_LANGUAGE_CHOICES} (any case); default: guessed from each request (Bash when unsure).",
    callback=language_option, autocompletion=lambda: list(language_names()))]
Device = Annotated[str, typer.Option(help="auto, cpu or cuda.", callback=one_of(DEVICES, "device"),
                                     autocompletion=lambda: list(DEVICES))]
Seed = Annotated[int, typer.Option(help=f"Seed of the noise draws and batches (0-{MAX_SEED}).",
                                   callback=within(0, MAX_SEED, "--seed"))]
Steps = Annotated[Optional[int], typer.Option(
    help="Denoising steps (1 to the model's T, 1200 for the bundled one; default 20).",
    callback=within(1, None, "--steps"))]
Model = Annotated[Optional[str], typer.Option(
    "--model", "-m", help="Model directory, trained run name, or Hub repo[@revision] (default: the bundled one).")]
Strength = Annotated[Optional[float], typer.Option(
    min=0.0, max=1.0, help="Edit the nearest training programs after noising them this far (0: as retrieved, "
                           "1: pure noise; default: the model's, per language).")]
Guidance = Annotated[float, typer.Option(
    min=0.0, max=20.0, help="Classifier-free guidance scale: how much harder the network reads the request "
                            "(1: plainly; needs a model trained with --request-dropout).")]
AllowUnverified = Annotated[bool, typer.Option(
    "--allow-unverified", help="Load a model folder that has no checksums.json (only one you trust).")]
Overwrite = Annotated[bool, typer.Option(
    help="Replace an earlier cfgen model in the output folder (other files are never touched).")]
PagesDev = Annotated[bool, typer.Option(
    "--pages-dev/--no-pages-dev", help="Hold about one tldr-style page example in ten out as a dev split (to "
                                       "measure on); by default every example is used.")]
Platform = Annotated[Optional[str], typer.Option(
    help="The platform whose commands rank first (linux, osx, windows, …; default: this machine's); commands of "
         "tldr pages for another platform rank after and say so.",
    callback=one_of(tuple(sorted(PLATFORMS)), "platform"), autocompletion=choices(sorted(PLATFORMS)))]

"""The command line: the typer app, its group options and its commands (one module each in cfgen/commands; the
`cfgen` entry point is `__main__.main`). With render.py, output.py and command_group.py the only modules importing
typer or rich; torch and the model code are imported inside commands, so `--help` and completion stay fast. Every
failure, an option's check included, leaves through `CommandGroup.invoke`: one line, the exit code of errors.py."""

from __future__ import annotations

from typing import Annotated

import typer

from cfgen.commands.group import CommandGroup
from cfgen.commands.evaluate import evaluate
from cfgen.commands.export import export
from cfgen.commands.generate import generate
from cfgen.commands.models import models, pull
from cfgen.commands.serve import serve
from cfgen.commands.shell_init import shell_init
from cfgen.commands.train import train
from cfgen.model_files.environment import check_environment
from cfgen.errors import exit_codes_help
from cfgen.answering.render import configure_logging

app = typer.Typer(
    cls=CommandGroup,
    name="cfgen",
    help="Turn a plain-English request into ranked, syntax-checked Bash, Python or Excel CF-rule candidates.\n\n"
         'cfgen "QUERY" [OPTIONS] is short for cfgen generate "QUERY" [OPTIONS], e.g. '
         'cfgen "list files older than 3 days" --lang bash.',
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: flags without a type after them
)
EXIT_CODES_HELP = exit_codes_help()


def _print_version(asked: bool) -> None:
    if asked:
        from cfgen import __version__

        print(f"cfgen {__version__}")
        raise typer.Exit(0)


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="Only errors on stderr (and warnings about risky or broken printed code).")] = False,
    version: Annotated[bool, typer.Option(
        "--version", help="Print cfgen's version and exit.", callback=_print_version, is_eager=True)] = False,
) -> None:
    configure_logging(debug, quiet)  # --debug also makes CommandGroup re-raise failures
    check_environment()  # before any library reads it (huggingface_hub prints on stdout about what it cannot read)


app.command(epilog=EXIT_CODES_HELP)(generate)
app.command(name="eval", epilog=EXIT_CODES_HELP)(evaluate)
app.command(epilog=EXIT_CODES_HELP)(train)
app.command(epilog=EXIT_CODES_HELP)(export)
app.command(epilog=EXIT_CODES_HELP)(pull)
app.command()(models)
app.command(epilog=EXIT_CODES_HELP)(serve)
app.command(name="shell-init", epilog=EXIT_CODES_HELP)(shell_init)

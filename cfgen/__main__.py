"""The `cfgen` command: `cfgen "query"` is `cfgen generate "query"`, then the typer app (cli.py)."""

from __future__ import annotations

import os
import sys

from cfgen.cli import app
from cfgen.errors import describe
from cfgen.render import error as print_error

GLOBAL_OPTIONS = {"--debug", "--quiet", "-q", "--help", "--install-completion", "--show-completion"}


def _with_default_command(argv: list[str]) -> list[str]:
    """`cfgen "query"` means `cfgen generate "query"`; so does bare `cfgen` with piped stdin."""
    commands = {c.name or c.callback.__name__ for c in app.registered_commands}
    if any(o in argv for o in ("--install-completion", "--show-completion")):
        return argv
    for position, token in enumerate(argv):
        if token in GLOBAL_OPTIONS:
            continue
        if token in commands:
            return argv
        return argv[:position] + ["generate"] + argv[position:]
    if not sys.stdin.isatty() and "--help" not in argv:
        return argv + ["generate"]
    return argv


def main() -> None:
    if any(key.startswith("_CFGEN_COMPLETE") for key in os.environ):
        app(prog_name="cfgen")  # shell completion: leave the arguments alone
        return
    try:
        app(args=_with_default_command(sys.argv[1:]), prog_name="cfgen")
    except Exception as failure:  # a failure outside any command: still one line, unless --debug
        if "--debug" in sys.argv[1:]:
            raise
        print_error(describe(failure))
        sys.exit(1)


if __name__ == "__main__":
    main()

"""The `cfgen` command: `cfgen "query"` is `cfgen generate "query"`, then the typer app (cli.py)."""

from __future__ import annotations

import os
import sys

from cfgen.commands.app import app
from cfgen.commands.group import report_failure, with_default_command
from cfgen.answering.render import error as print_error


def _with_default_command(argv: list[str]) -> list[str]:
    """`cfgen "query"` means `cfgen generate "query"`; so does bare `cfgen` with piped stdin."""
    commands = {c.name or c.callback.__name__ for c in app.registered_commands}
    # a closed stdin (`cfgen <&-`) goes to `generate` too, which says in one line that there is nothing to read
    stdin_is_tty = sys.stdin is not None and sys.stdin.isatty()
    return with_default_command(argv, commands, stdin_is_tty)


def main() -> None:
    if sys.stdout is None:  # started with stdout closed (`cfgen "…" >&-`): nowhere to write an answer
        print_error("stdout is closed: cfgen has nowhere to write; redirect it to a file or /dev/null instead")
        sys.exit(1)
    if any(key.startswith("_CFGEN_COMPLETE") for key in os.environ):
        app(prog_name="cfgen")  # shell completion: leave the arguments alone
        return
    try:
        app(args=_with_default_command(sys.argv[1:]), prog_name="cfgen")
    except Exception as failure:  # a failure outside any command: still one line, unless --debug
        if "--debug" in sys.argv[1:]:
            raise
        sys.exit(report_failure(failure))


if __name__ == "__main__":
    main()

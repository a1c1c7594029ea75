"""The `cfgen` command group: the default command, completion as the command line reads it, and the one place
where a failure becomes one line on stderr and an exit code (errors.exit_code_of)."""

from __future__ import annotations

import os
import sys

import click
import typer
from typer.core import TyperArgument, TyperGroup, TyperOption

from cfgen.errors import DownloadInterrupted, describe, exit_code_of
from cfgen.answering.render import error as print_error

DEFAULT_COMMAND = "generate"
GLOBAL_OPTIONS = {"--debug", "--quiet", "-q", "--help", "--version", "--install-completion", "--show-completion"}


MOVABLE_OPTIONS = ("--debug", "--quiet", "-q")  # the group's flags, accepted anywhere on the line


def with_default_command(argv: list[str], commands: set[str], stdin_is_tty: bool) -> list[str]:
    """`cfgen "query"` means `cfgen generate "query"`; so does bare `cfgen` with piped stdin. The group's own
    flags (--debug, -q) may come anywhere before a `--`: they are moved in front."""
    if any(o in argv for o in ("--install-completion", "--show-completion")):
        return argv
    end = argv.index("--") if "--" in argv else len(argv)
    moved = [token for token in argv[:end] if token in MOVABLE_OPTIONS]
    argv = moved + [token for token in argv[:end] if token not in MOVABLE_OPTIONS] + argv[end:]
    for position, token in enumerate(argv):
        if token in GLOBAL_OPTIONS:
            continue
        if token in commands:
            return argv
        return argv[:position] + [DEFAULT_COMMAND] + argv[position:]
    if not stdin_is_tty and "--help" not in argv:
        return argv + [DEFAULT_COMMAND]
    return argv


def report_failure(failure: BaseException) -> int:
    """The one place a failure is printed: one line on stderr; its exit code returned. A closed output pipe
    (`cfgen … | head -1`) is not a failure to report: the reader had what it wanted. After a download was
    interrupted, the process ends here (huggingface_hub's download threads run on; exiting normally waits)."""
    code = exit_code_of(failure)
    if isinstance(failure, BrokenPipeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so that the exit's flush cannot fail again
        return code
    print_error(describe(failure))
    if isinstance(failure, DownloadInterrupted):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


class CommandGroup(TyperGroup):
    """Tab completion as the command line reads it: `cfgen "x" --lang <TAB>` completes `generate`'s options
    (the entry point inserts `generate` before running; completion leaves the words alone, so it is done here),
    and `cfgen --la<TAB>` offers `generate`'s options beside the group's own. Every failure of a command or of
    its option checks leaves through `invoke`: one line and its exit code; --debug re-raises."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        if ctx.resilient_parsing:  # only while completing
            args = with_default_command(args, set(self.commands), stdin_is_tty=True)
        return super().parse_args(ctx, args)

    def shell_complete(self, ctx, incomplete: str):
        found = super().shell_complete(ctx, incomplete)
        if incomplete.startswith("-"):
            command = self.commands[DEFAULT_COMMAND]
            inner = command.make_context(DEFAULT_COMMAND, [], parent=ctx, resilient_parsing=True)
            known = {item.value for item in found}
            found += [item for item in command.shell_complete(inner, incomplete) if item.value not in known]
        return found

    def get_command(self, ctx, name: str):
        command = super().get_command(ctx, name)
        return _plain_help(command) if command is not None else None

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, click.exceptions.Exit, click.exceptions.Abort):
            raise  # an exit code already chosen
        except (Exception, KeyboardInterrupt) as failure:  # noqa: BLE001 - errors.describe sorts them
            if ctx.params.get("debug"):
                raise
            raise typer.Exit(report_failure(failure)) from None


def _plain_help(command):
    """A command whose help names each value by a word, not a type: `--lang LANG`, `MODEL`, not `--lang <str>`,
    `{model}` or `<list[str]>` (typer writes its types where a parameter has no metavar)."""
    for param in command.params:
        if isinstance(param, TyperArgument):
            word = (param.metavar or param.name).upper()
            param.metavar = word
            param.display_type_rich = lambda ctx: None
            more = "..." if param.nargs != 1 else ""
            param._rich_display_name = lambda shown=word + more: shown
            param._usage_display_name = lambda shown=word + more if param.required else f"[{word}]{more}": shown
        elif isinstance(param, TyperOption) and not param.is_flag and param.metavar is None:
            longest = max(param.opts, key=len).lstrip("-")
            param.metavar = longest.rsplit("-", 1)[-1].upper() + ("..." if param.multiple else "")
    return command

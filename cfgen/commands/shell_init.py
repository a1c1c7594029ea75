"""`cfgen shell-init bash|zsh|fish`: the prompt widget for a shell (the scripts are in cfgen/shell/)."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from cfgen.commands.options import Model, choices, one_of

SHELLS = ("bash", "zsh", "fish")
DEFAULT_KEYS = {"bash": r"\C-g", "zsh": "^G", "fish": r"\cg"}  # Ctrl-G in each shell's own notation
KEY_PATTERN = re.compile(r"[\w\\^\[\]@-]{1,24}")  # key notations (\C-x\C-g, ^X^G, \eg), never quotes or spaces
SCRIPTS = Path(__file__).resolve().parent.parent / "shell"

Shell = Annotated[str, typer.Argument(help="bash, zsh or fish.", callback=one_of(SHELLS, "shell"),
                                      autocompletion=choices(SHELLS))]
Key = Annotated[Optional[str], typer.Option(
    help="The key, in the shell's own notation (default Ctrl-G: bash \\C-g, zsh ^G, fish \\cg).")]


def _quoted(text: str, shell: str) -> str:
    """`text` as one word of `shell` (fish reads backslashes inside single quotes)."""
    if shell == "fish":
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return shlex.quote(text)


def widget_script(shell: str, key: str | None = None, model: str | None = None) -> str:
    """The widget's script for `shell`, bound to `key`, asking for `model`'s answers (None: the bundled)."""
    from cfgen.errors import UsageError

    key = key or DEFAULT_KEYS[shell]
    if not KEY_PATTERN.fullmatch(key):
        raise UsageError(f"--key {key[:30]!r} is no key notation (e.g. {DEFAULT_KEYS[shell]})")
    model_arguments = f"--model {_quoted(model, shell)}" if model else ""
    script = (SCRIPTS / f"widget.{shell}").read_text()
    return (script.replace("@PYTHON@", _quoted(sys.executable, shell)).replace("@MODEL_ARGS@", model_arguments)
            .replace("@KEY@", key))


def shell_init(shell: Shell, key: Key = None, model: Model = None) -> None:
    """Print the prompt widget for a shell: type a request, press Ctrl-G, the line becomes the command.

    bash: eval "$(cfgen shell-init bash)" in ~/.bashrc; zsh: eval "$(cfgen shell-init zsh)" in ~/.zshrc;
    fish: cfgen shell-init fish | source in ~/.config/fish/config.fish. The key again shows the next candidate,
    then the request. Nothing is ever run. The first press starts the warm answerer (cfgen serve).
    """
    sys.stdout.write(widget_script(shell, key, model))

"""What this machine has, for ranking Bash candidates: utilities on PATH (cached), the subcommands a tool lists
(git's), and which commands are niche here: a candidate needing what is absent ranks after those that do not,
unless the request asks for it.
"""

from __future__ import annotations

import functools
import re
import shutil

from cfgen.languages.bash_common import EVERYDAY, utility_of
from cfgen.languages.bash_template import SLOT, template
from cfgen.languages.bash_asks import names_utility


def niche(code: str, request: str) -> bool:
    """Whether a command needs what this machine lacks and the request does not ask for: a utility not installed
    here and no everyday one (a utility the request names is what it asks for, installed here or not: a team's own
    tool, another host's), a subcommand its tool lacks (`git summary` needs git-extras), or no utility at all
    (`{{file.json}} | jq …`: whatever value lands first)."""
    utility = utility_of(code)
    if utility and (installed(utility) or utility in EVERYDAY):  # the common case, without a parse
        return not subcommand_installed(utility, code)
    if runs_a_value(code):
        return True
    named = bool(utility) and names_utility(utility, request)
    return (bool(utility) and not named and not installed(utility) and utility not in EVERYDAY) or \
        not subcommand_installed(utility, code)


@functools.lru_cache(maxsize=1024)
def installed(utility: str) -> bool:
    """Whether `utility` is a command on this machine's PATH (or a shell builtin)."""
    return utility in _BUILTINS or shutil.which(utility) is not None


# Tools whose subcommands can be listed here, and how: a subcommand not in the list is not installed.
SUBCOMMAND_LISTS = {"git": ["git", "--list-cmds=main,others,alias"]}
_OPTION_ARGUMENTS = {"-C", "-c", "--git-dir", "--work-tree", "--namespace"}


def subcommand_installed(utility: str, code: str) -> bool:
    """Whether the command's subcommand (`git summary`'s summary) is one its tool has here; True where the tool's
    subcommands cannot be listed (not installed, not a tool in SUBCOMMAND_LISTS, the listing failed)."""
    known = _subcommands(utility) if utility in SUBCOMMAND_LISTS else None
    if not known:
        return True
    words = code.split()
    after = words[words.index(utility) + 1:] if utility in words else []
    operands = [word for i, word in enumerate(after) if not word.startswith("-")
                and not (i and after[i - 1] in _OPTION_ARGUMENTS)]  # `git -C repo log`: repo is -C's
    subcommand = operands[0] if operands else None
    return subcommand is None or not re.fullmatch(r"[a-z][\w-]*", subcommand) or subcommand in known


@functools.lru_cache(maxsize=16)
def _subcommands(utility: str) -> frozenset[str]:
    import subprocess

    if not installed(utility):
        return frozenset()
    try:
        listed = subprocess.run(SUBCOMMAND_LISTS[utility], capture_output=True, text=True, timeout=5,
                                stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(listed.stdout.split()) if listed.returncode == 0 else frozenset()


_BUILTINS = {"cd", "echo", "printf", "export", "read", "source", ".", "alias", "set", "unset", "history", "kill",
             "pwd", "type", "ulimit", "umask", "wait", "jobs", "fg", "bg", "test", "[", "true", "false", "for",
             "while", "if", "case", "until", "declare", "local", "trap", "exit", "return", "shift", "eval",
             "shopt", "pushd", "popd", "dirs", "bind", "complete", "compgen", "disown", "hash", "let", "readonly",
             "mapfile", "readarray", "getopts", "times", "enable", "logout", "select", "function", "builtin"}


def runs_a_value(code: str) -> bool:
    """Whether the command's first word is a value of its program (a slot), not a utility."""
    made = template(code)
    return made is not None and bool(made.tokens) and SLOT.search(made.tokens[0]) is not None

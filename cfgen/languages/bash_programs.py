"""Which arguments of a Bash command are program text that another language reads: the script of `sh -c`,
`bash -c`, `eval` and `trap`, `python -c`/`perl -e`/`node -e`, the first operand of awk, sed and jq, ssh's
remote command, all of watch's, followed through wrappers (`sudo -u bob`, `timeout 5`, `xargs -I {}`,
`find … -exec`) to the utility that reads them; and which values stay one inert literal inside such text."""

from __future__ import annotations

import re

from cfgen.languages.bash_syntax import FIND_EXEC_FLAGS, LEADING_OPERANDS, OPTION_VALUES, RUNS_A_COMMAND, _bare, _text

# Languages whose program is the argument after one of PROGRAM_FLAGS (shells: it and all that follow).
SHELLS = {"sh", "bash", "zsh", "ksh", "dash", "fish", "ash", "csh", "tcsh", "su", "flock", "script", "expect", "tclsh"}
INTERPRETERS = {"python", "python2", "python3", "perl", "ruby", "node", "nodejs", "php", "lua", "Rscript", "osascript",
                "pwsh", "powershell", "deno", "bun", "sqlite3", "psql", "mysql", "duckdb"}
PROGRAM_FLAGS = {"-c", "-e", "-E", "-r", "--eval", "--command", "--expression", "-command", "--execute"}
_ENDS_IN_CODE_FLAG = re.compile(r"-[A-Za-z]*[ec]")  # `perl -lne`, `node -pe`, `bash -xc`, `sed -ne`: code follows
SCRIPT_FLAGS = {"-e", "--expression"}  # awk-like languages: the program follows (and no operand is one)
FILE_FLAGS = {"-f", "--file", "--from-file"}  # ...the program is in the file named next
# Languages whose first operand, and every quoted operand, is program text (their options' values are not known).
FIRST_OPERAND = {"awk", "gawk", "mawk", "nawk", "sed", "gsed", "jq", "gojq", "yq", "perl", "xmllint", "xmlstarlet"}
EVERY_OPERAND = {"eval", "trap"}
# Commands that join their operands, from this one on, into a shell command: ssh's after the host, all of watch's.
SHELL_OPERANDS = {"ssh": 1, "watch": 0}
LANGUAGES_BY_NAME = SHELLS | INTERPRETERS | FIRST_OPERAND | EVERY_OPERAND | set(SHELL_OPERANDS)
# Values that are one literal, and no code, wherever they go in these languages' programs (see _inert_in).
_WORDS = re.compile(r"[A-Za-z0-9_ ]+")
_DOTTED_WORDS = re.compile(r"[A-Za-z0-9_ ]+(?:[.-][A-Za-z0-9_ ]+)*")
INERT_VALUES = {"awk": _DOTTED_WORDS, "gawk": _DOTTED_WORDS, "mawk": _DOTTED_WORDS, "nawk": _DOTTED_WORDS,
                "jq": _DOTTED_WORDS, "gojq": _DOTTED_WORDS, "yq": _DOTTED_WORDS, "sed": _WORDS, "gsed": _WORDS}
SED_WORD_DELIMITER = re.compile(r"(?:^|[;{}\s'\"])s[A-Za-z0-9_ ]")  # `sxaxbx`: a word character would end the value
QUOTED = {"string", "raw_string"}


def inert_in(language: str, value: str, node) -> bool:
    """Whether `value` is one literal, with no code of `language` in it, wherever it goes in that language's program:
    in awk, sed and jq, letters, digits, spaces and underscores (awk, jq: dots and dashes inside too) are; in a
    shell, perl, python, eval or ssh nothing is, since a word there can be a command."""
    inert = INERT_VALUES.get(language)
    if inert is None or not inert.fullmatch(value):
        return False
    return language not in ("sed", "gsed") or not SED_WORD_DELIMITER.search(_text(node))


def program_argument(name: str, arguments: list, target: int) -> str | None:
    """The utility whose program text arguments[target] of a command named `name` is (None: it is data; "": a
    command of its own, as in `sudo {{command}}`), following the command through wrappers (`sudo -u bob`, `xargs
    -I {}`, `timeout 5`, `find … -exec`) to the utility that reads it."""
    utility, state = _bare(name), _Reading()
    state.start(utility)
    for index, argument in enumerate(arguments):
        text = _text(argument)
        is_flag = text.startswith("-") and len(text) > 1
        if state.program_next or state.program_rest:
            state.program_next, state.program_rest = False, state.program_rest or utility in SHELLS
            if index == target:
                return utility
        elif state.option_value:  # the value of a wrapper's option (`-u bob`): data
            state.option_value = False
            if index == target:
                return None
        elif is_flag:
            if index == target:  # `perl -e'…'`, `awk -F'…'`: an option of a language may hold its code
                return utility if utility in LANGUAGES_BY_NAME else None
            code_flags = SCRIPT_FLAGS if utility in FIRST_OPERAND else PROGRAM_FLAGS
            state.program_next = utility in LANGUAGES_BY_NAME and (
                text in code_flags or bool(_ENDS_IN_CODE_FLAG.fullmatch(text)))
            state.program_given = state.program_given or (utility in FIRST_OPERAND and (
                text in SCRIPT_FLAGS | FILE_FLAGS or bool(_ENDS_IN_CODE_FLAG.fullmatch(text))))
            state.option_value = text in OPTION_VALUES.get(utility, ()) or (
                utility in FIRST_OPERAND and text in FILE_FLAGS)
            state.expect_utility = state.expect_utility or (utility == "find" and text in FIND_EXEC_FLAGS)
        elif state.expect_utility and state.leading_operands == 0:
            if index == target:
                return ""  # where a command goes: a value would choose what runs
            utility = _bare(text)
            state.start(utility)
        else:
            state.leading_operands = max(0, state.leading_operands - 1)
            if index == target:
                return utility if _is_program_operand(utility, argument, state.operands, state.program_given) else None
            # `emulate ksh -c …`, `su - bob -s /bin/sh -c …`: it reads what follows
            if _bare(text) in LANGUAGES_BY_NAME:
                utility = _bare(text)
                state.start(utility)
                continue
            state.operands += 1
            state.program_rest = state.operands >= SHELL_OPERANDS.get(utility, len(arguments) + 1)
    return None


class _Reading:
    """Where program_argument stands in a command's arguments."""

    def start(self, utility: str) -> None:
        """A new utility begins to read its arguments."""
        self.expect_utility = utility in RUNS_A_COMMAND and utility not in SHELL_OPERANDS
        self.leading_operands = LEADING_OPERANDS.get(utility, 0)  # `timeout 5 CMD`: 5 comes before the command
        self.program_rest = utility in EVERY_OPERAND or SHELL_OPERANDS.get(utility) == 0
        self.program_next = self.option_value = self.program_given = False
        self.operands = 0


def _is_program_operand(utility: str, argument, operands_before: int, program_given: bool) -> bool:
    """For awk-like languages: the first operand is the program unless -e or -f gave it; any quoted one may be."""
    if utility in EVERY_OPERAND:
        return True
    if utility in FIRST_OPERAND:
        quoted = argument.type in QUOTED or any(child.type in QUOTED for child in argument.children)
        return (operands_before == 0 and not program_given) or quoted
    return False

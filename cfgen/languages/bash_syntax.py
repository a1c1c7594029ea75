"""Walking tree-sitter-bash's parse of a command: the shared ground of the bash checker, templates and risk flags.

tree-sitter-bash is an incremental GLR parser, linear in its input, that
cannot loop (bashlex was seen here looping forever, memory climbing past
18 GB, on half-formed commands). Every walk here is bounded by MAX_DEPTH.
"""

from __future__ import annotations

import functools
import re
from typing import Iterator

MAX_DEPTH = 150  # deeper trees are not walked (recursion guard); such code is flagged invalid
ARGUMENT_NODES = {
    "word", "string", "raw_string", "number", "concatenation", "simple_expansion", "expansion",
    "ansi_c_string", "translated_string", "arithmetic_expansion", "brace_expression", "regex",
    "extglob_pattern", "heredoc_body", "string_content",
}
# Commands whose first non-flag argument is itself a utility (NL2Bash keeps it in templates).
WRAPPERS = {"xargs", "sudo", "doas", "nohup", "time", "nice", "exec", "env", "watch", "command", "builtin", "stdbuf",
            "busybox", "toybox"}
# Commands whose operand is run as a command (beside WRAPPERS): `timeout 5 sh -c …`, `chroot /srv bash`.
RUNS_A_COMMAND = WRAPPERS | {"timeout", "setsid", "ionice", "strace", "ltrace", "flock", "chroot", "taskset", "chrt",
                             "unbuffer", "runuser", "systemd-run", "firejail", "proxychains", "torsocks", "caffeinate"}
# Operands a wrapper takes before the command it runs, and its options that take a value (`sudo -u bob CMD`).
LEADING_OPERANDS = {"timeout": 1, "chroot": 1, "flock": 1, "taskset": 1, "chrt": 1}
OPTION_VALUES = {
    "sudo": {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T", "--user", "--group"},
    "doas": {"-u", "-C"},
    "xargs": {
        "-I",
        "-n",
        "-P",
        "-d",
        "-L",
        "-s",
        "-E",
        "-a",
        "--delimiter",
        "--max-args",
        "--max-procs",
        "--arg-file",
        "-i",
    },
    "env": {"-u", "-C", "--unset", "--chdir"},
    "nice": {"-n", "--adjustment"},
    "time": {"-f", "-o"},
    "timeout": {"-s", "-k", "--signal", "--kill-after"},
    "ionice": {"-c", "-n", "-p", "-t"},
    "flock": {"-w", "-E", "--timeout"},
    "strace": {"-o", "-p", "-e", "-s", "-u"},
    "stdbuf": {"-i", "-o", "-e"},
    "taskset": {"-c"},
    "runuser": {"-u", "-g"},
    "watch": {"-n", "-d", "--interval"},
    "ssh": {"-p", "-i", "-l", "-o", "-F", "-J", "-L", "-R", "-D", "-b", "-c", "-E", "-e", "-m", "-S", "-W"},
}
FIND_EXEC_FLAGS = {"-exec", "-execdir", "-ok", "-okdir"}
TYPOGRAPHIC_DASHES = {"\u2013", "\u2014", "\u2212"}  # en dash, em dash, minus sign
TYPOGRAPHIC_QUOTES = {"\u201c", "\u201d", "\u2018", "\u2019"}


@functools.cache
def _parser():
    import tree_sitter
    import tree_sitter_bash

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))


# tree-sitter-bash 0.25's scanner passes code points to C's ctype functions, which index a
# 384-entry table: far past it the process can segfault ("{" + U+E8CE3 here, "{" + U+31860 in
# tree-sitter-bash#337). The parse sees such characters as U+FFFD; the code itself is untouched.
BEYOND_BMP = re.compile("[\U00010000-\U0010ffff]")


def _tree(code: str):
    return _parser().parse(BEYOND_BMP.sub("\ufffd", code).encode("utf-8", errors="replace"))


def _text(node) -> str:
    return node.text.decode("utf-8", errors="replace")


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"" else text


def _bare(utility: str) -> str:
    """`\\rm`, `'rm'`, `r""m`, `r\\m` and `/bin/rm` all run rm: the word after the shell's quote removal
    (where it holds no expansion), its directory dropped."""
    if not any(mark in utility for mark in "$`"):
        utility = re.sub(r"\\(.)|[\"']", lambda m: m.group(1) or "", utility)
    return utility.rsplit("/", 1)[-1]


def _walk(node, depth: int = 0) -> Iterator:
    if depth > MAX_DEPTH:
        return
    yield node
    for child in node.children:
        yield from _walk(child, depth + 1)


def _commands(node, depth: int = 0) -> Iterator[tuple[str, list[str]]]:
    if depth > MAX_DEPTH:
        return
    if node.type == "command":
        name_node = node.child_by_field_name("name")
        arguments = [_unquote(_text(c)) for c in node.children_by_field_name("argument")]
        if name_node is not None:
            utility = _bare(_text(name_node))
            yield utility, arguments
            while utility.rsplit("/", 1)[-1] in RUNS_A_COMMAND:  # sudo rm -rf /, timeout 5 rm -rf / also run rm -rf /
                inner = _wrapped_command(utility.rsplit("/", 1)[-1], arguments)
                if inner is None:
                    break
                utility, arguments = _bare(arguments[inner]), arguments[inner + 1 :]
                yield utility, arguments
    for child in node.children:
        yield from _commands(child, depth + 1)


def _wrapped_command(wrapper: str, arguments: list[str]) -> int | None:
    """Where the command a wrapper runs begins among its arguments: after its options (and their values, `sudo -u
    bob`) and its leading operands (`timeout 5`); None if it runs none."""
    option_value, leading = False, LEADING_OPERANDS.get(wrapper, 0)
    for index, argument in enumerate(arguments):
        if option_value:
            option_value = False
        elif argument.startswith("-") and len(argument) > 1:
            option_value = argument in OPTION_VALUES.get(wrapper, ())
        elif leading:
            leading -= 1
        else:
            return index
    return None


def _effective_utility(command) -> str:
    """The utility a command really runs: `sudo bash` runs bash."""
    utility = _text(command.child_by_field_name("name"))
    for argument in command.children_by_field_name("argument"):
        if utility.rsplit("/", 1)[-1] not in WRAPPERS:
            break
        text = _text(argument)
        if not text.startswith("-"):
            utility = text
    return utility


def _pipelines(node, depth: int = 0) -> Iterator[list[str]]:
    if depth > MAX_DEPTH:
        return
    if node.type == "pipeline":
        names = []
        for child in node.children:
            command = (
                child if child.type == "command" else next((c for c in child.children if c.type == "command"), None)
            )
            if command is not None and command.child_by_field_name("name") is not None:
                names.append(_effective_utility(command))
        yield names
    for child in node.children:
        yield from _pipelines(child, depth + 1)


def _redirect_targets(node, depth: int = 0) -> Iterator[str]:
    if depth > MAX_DEPTH:
        return
    if node.type == "file_redirect":
        destination = node.child_by_field_name("destination")
        if destination is not None:
            yield _unquote(_text(destination))
    for child in node.children:
        yield from _redirect_targets(child, depth + 1)

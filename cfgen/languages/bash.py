"""Bash: syntax check, NL2Bash command templates and risk flags.

Parsing uses tree-sitter-bash: an incremental GLR parser that is linear in
its input and cannot loop (bashlex was seen here looping forever, memory
climbing past 18 GB, on half-formed commands). Its error nodes tell where a
command is broken; the tree drives both the template and the risk flags.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Iterator

from cfgen.languages import MAX_CODE_CHARS, as_text

name = "bash"

MAX_DEPTH = 150  # deeper trees are not walked (recursion guard); such code is flagged invalid
ARGUMENT_NODES = {
    "word", "string", "raw_string", "number", "concatenation", "simple_expansion", "expansion",
    "ansi_c_string", "translated_string", "arithmetic_expansion", "brace_expression", "regex",
    "extglob_pattern", "heredoc_body", "string_content",
}
# Commands whose first non-flag argument is itself a utility (NL2Bash keeps it in templates).
WRAPPERS = {"xargs", "sudo", "doas", "nohup", "time", "nice", "exec", "env", "watch", "command", "builtin", "stdbuf"}
FIND_EXEC_FLAGS = {"-exec", "-execdir", "-ok", "-okdir"}
TYPOGRAPHIC_DASHES = {"\u2013", "\u2014", "\u2212"}  # en dash, em dash, minus sign
TYPOGRAPHIC_QUOTES = {"\u201c", "\u201d", "\u2018", "\u2019"}
KEPT_LITERALS = {r"\;", "';'", '";"', "{}", "+"}


@functools.cache
def _parser():
    import tree_sitter
    import tree_sitter_bash

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))


# tree-sitter-bash 0.25's scanner passes code points to C's ctype functions, which index a
# 384-entry table: far past it the process can segfault ("{" + U+E8CE3 here, "{" + U+31860 in
# tree-sitter-bash#337). The parse sees such characters as U+FFFD; the code itself is untouched.
BEYOND_BMP = re.compile("[\U00010000-\U0010FFFF]")


def _tree(code: str):
    return _parser().parse(BEYOND_BMP.sub("\ufffd", code).encode("utf-8", errors="replace"))


def _first_error(node, depth: int = 0):
    if node.type == "ERROR" or node.is_missing:
        return node
    if depth > MAX_DEPTH:
        return node
    for child in node.children:
        if child.has_error or child.is_missing:
            found = _first_error(child, depth + 1)
            if found is not None:
                return found
    return None


def _depth_exceeds(node, limit: int) -> bool:
    stack = [(node, 0)]
    while stack:
        current, depth = stack.pop()
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in current.children)
    return False


def check(code: str) -> tuple[bool, str]:
    code = as_text(code)
    if not code.strip():
        return False, "empty"
    if len(code) > MAX_CODE_CHARS:
        return False, f"longer than {MAX_CODE_CHARS} characters"
    root = _tree(code).root_node
    if _depth_exceeds(root, MAX_DEPTH):
        return False, "too deeply nested"
    if root.has_error:
        error = _first_error(root)
        column = error.start_point[1] + 1 if error is not None else 0
        what = f"missing {error.type!r}" if error is not None and error.is_missing else "unexpected text"
        return False, f"syntax error: {what} at column {column}"
    for _, arguments in _commands(root):
        typographic = next((a for a in arguments if a[:1] in TYPOGRAPHIC_DASHES or TYPOGRAPHIC_QUOTES & set(a)), None)
        if typographic is not None:  # copy-paste damage from a word processor: the shell sees a plain word
            return False, f"typographic character in {typographic!r}: use ASCII '-' and quotes"
    return True, "ok"


def _text(node) -> str:
    return node.text.decode("utf-8", errors="replace")


def _is_flag(text: str) -> bool:
    return len(text) > 1 and text.startswith("-") and text != "--"


def _flag(text: str) -> str:
    return text.split("=", 1)[0] if text.startswith("--") else text  # --color=auto -> --color


def _command_template(node, depth: int) -> list[str]:
    out: list[str] = []
    utility, expect_utility = None, False
    for child in node.children:
        text = _text(child)
        if child.type == "command_name":
            utility = text
            out.append(text)
            expect_utility = text in WRAPPERS
        elif child.type == "variable_assignment":
            out.append("_=_")
        elif child.type in ("command_substitution", "process_substitution"):
            out += _template(child, depth + 1)
        elif child.type == "word" and _is_flag(text):
            out.append(_flag(text))
            if utility == "find" and text in FIND_EXEC_FLAGS:
                expect_utility = True
        elif text in KEPT_LITERALS:
            out.append(text)
        elif expect_utility and child.type == "word":
            out.append(text)  # the utility a wrapper or find -exec runs
            utility, expect_utility = text, text in WRAPPERS
        elif not child.is_named:
            out.append(child.type)
        else:
            out.append("_")
    return out


def _template(node, depth: int = 0) -> list[str]:
    if depth > MAX_DEPTH:
        return ["…"]
    kind = node.type
    if kind == "command":
        return _command_template(node, depth)
    if kind == "comment":
        return []
    if kind in ("file_descriptor",):
        return [_text(node)]
    if kind in ARGUMENT_NODES:
        return ["_"]
    if not node.children:
        return [_text(node)] if not node.is_named else ["_"]
    out: list[str] = []
    for child in node.children:
        out += _template(child, depth + 1) if child.is_named else [child.type]
    return out


def template(code: str) -> str:
    """NL2Bash's command template: utilities, flags, operators and structure kept, arguments as `_`."""
    code = as_text(code).strip()
    if len(code) > MAX_CODE_CHARS:
        return re.sub(r"\s+", " ", code)
    return " ".join(_template(_tree(code).root_node))


def normalise(code: str) -> str:
    return template(code)


def matches(prediction: str, gold: str, context: Any = None) -> bool:
    """Template match (NL2Bash). A prediction that does not parse matches only a gold that
    does not parse either (a handful of benchmark commands are broken)."""
    if not as_text(prediction).strip() or template(prediction) != template(gold):
        return False
    return check(prediction)[0] or not check(gold)[0]


# -- risk flags ------------------------------------------------------------------

BROAD_PATHS = {"/", "/*", "~", "~/", "~/*", "*", ".", "./", "..", "$HOME", "${HOME}", "$HOME/", "/home", "/usr",
               "/etc", "/var", "/boot", "/bin", "/lib", "/root", "/dev", "/sys", "/proc"}
BLOCK_DEVICE = re.compile(r"^/dev/(sd[a-z]|hd[a-z]|vd[a-z]|xvd[a-z]|nvme\d|mmcblk\d|disk\d|md\d|dm-\d|loop\d)")
SHELLS = {"sh", "bash", "zsh", "ksh", "dash", "fish", "python", "python3", "perl", "ruby"}
RUNS_CODE = SHELLS | {"source", ".", "eval", "exec", "node", "php", "python2"}  # run text they are given as code
DOWNLOADERS = {"curl", "wget", "fetch", "aria2c"}
FORK_BOMB = re.compile(r"(\w+|:)\s*\(\s*\)\s*\{\s*\1\s*\|\s*\1\s*&\s*\}\s*;\s*\1")


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"" else text


def _bare(utility: str) -> str:
    """`\\rm`, `'rm'` and `/bin/rm` all run rm."""
    return _unquote(utility.lstrip("\\")).rsplit("/", 1)[-1]


def _walk(node, depth: int = 0) -> Iterator:
    if depth > MAX_DEPTH:
        return
    yield node
    for child in node.children:
        yield from _walk(child, depth + 1)


def _runs_a_download(root) -> bool:
    """A shell or interpreter fed a download through <(…), $(…) or `…`: `bash <(curl URL)`, `eval "$(wget -O- URL)"`."""
    for node in _walk(root):
        if node.type != "command" or node.child_by_field_name("name") is None:
            continue
        if _bare(_effective_utility(node)) not in RUNS_CODE:
            continue
        scopes = [node] + ([node.parent] if node.parent is not None and node.parent.type == "redirected_statement" else [])
        for scope in scopes:
            for inner in _walk(scope):
                if inner.type in ("process_substitution", "command_substitution") and any(
                        utility in DOWNLOADERS for utility, _ in _commands(inner)):
                    return True
    return False


def _commands(node, depth: int = 0) -> Iterator[tuple[str, list[str]]]:
    if depth > MAX_DEPTH:
        return
    if node.type == "command":
        name_node = node.child_by_field_name("name")
        arguments = [_unquote(_text(c)) for c in node.children_by_field_name("argument")]
        if name_node is not None:
            utility = _bare(_text(name_node))
            yield utility, arguments
            while utility.rsplit("/", 1)[-1] in WRAPPERS:  # sudo rm -rf / also runs rm -rf /
                inner = next((i for i, a in enumerate(arguments) if not a.startswith("-")), None)
                if inner is None:
                    break
                utility, arguments = arguments[inner], arguments[inner + 1 :]
                yield utility, arguments
    for child in node.children:
        yield from _commands(child, depth + 1)


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
            command = child if child.type == "command" else next((c for c in child.children if c.type == "command"), None)
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


def _is_recursive(arguments: list[str]) -> bool:
    return any(a in ("--recursive",) or (re.fullmatch(r"-[a-zA-Z]+", a) and ("r" in a or "R" in a)) for a in arguments)


def _command_risks(utility: str, arguments: list[str]) -> list[str]:
    utility = utility.rsplit("/", 1)[-1]
    paths = [a for a in arguments if not a.startswith("-")]
    found = []
    if utility == "rm" and _is_recursive(arguments):
        broad = [p for p in paths if p in BROAD_PATHS or p.rstrip("/") in BROAD_PATHS]
        forced = any(a == "--force" or (re.fullmatch(r"-[a-zA-Z]+", a) and "f" in a) for a in arguments)
        if broad:
            found.append(f"recursive delete of {broad[0]}")
        elif forced:
            found.append("forced recursive delete")
    if utility in ("rm", "unlink", "rmdir") and not found:
        found.append("deletes files")
    if utility == "find":
        runs = {arguments[i + 1].rsplit("/", 1)[-1] for i, a in enumerate(arguments[:-1]) if a in FIND_EXEC_FLAGS}
        if "-delete" in arguments or runs & {"rm", "unlink", "rmdir", "shred"}:
            found.append("deletes the files it finds")
    if utility == "dd":
        target = next((a[3:] for a in arguments if a.startswith("of=")), "")
        found.append("dd writes to a block device" if BLOCK_DEVICE.match(target) else "dd copies raw data")
    if utility.startswith(("mkfs", "mke2fs", "wipefs", "mkswap")) or utility in ("fdisk", "parted", "sfdisk"):
        found.append("formats or repartitions a disk")
    if utility in ("chmod", "chown", "chgrp") and _is_recursive(arguments):
        if any(p in BROAD_PATHS for p in paths):
            found.append(f"recursive {utility} on a system path")
    if utility == "shred":
        found.append("shred destroys file contents")
    if utility in ("sudo", "doas", "su"):
        found.append("runs as root")
    if any(BLOCK_DEVICE.match(a) for a in paths) and utility not in ("dd", "ls", "lsblk", "blkid", "df", "mount", "fdisk"):
        found.append("touches a block device")
    return found


def risks(code: str) -> list[str]:
    """Flags for destructive or dangerous commands; never executes anything."""
    code = as_text(code)
    if not code.strip() or len(code) > MAX_CODE_CHARS:
        return []
    root = _tree(code).root_node
    flags: list[str] = []
    for utility, arguments in _commands(root):
        flags += _command_risks(utility, arguments)
    for target in _redirect_targets(root):
        if BLOCK_DEVICE.match(target):
            flags.append("writes to a block device")
    for names in _pipelines(root):
        downloads = [i for i, n in enumerate(names) if _bare(n) in DOWNLOADERS]
        if downloads and any(_bare(n) in SHELLS for n in names[downloads[0] + 1 :]):
            flags.append("pipes a download into a shell")
    if _runs_a_download(root):
        flags.append("runs a downloaded script")
    if FORK_BOMB.search(code):
        flags.append("fork bomb")
    return list(dict.fromkeys(flags))

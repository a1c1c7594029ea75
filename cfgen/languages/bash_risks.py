"""Risk flags for bash commands: destructive, privileged or download-and-run. Nothing is ever executed."""

from __future__ import annotations

import re
import shlex

from cfgen.languages import MAX_CODE_CHARS, as_text
from cfgen.languages.bash_programs import SHELL_OPERANDS, SHELLS, program_argument
from cfgen.languages.bash_syntax import (
    FIND_EXEC_FLAGS,
    _bare,
    _commands,
    _effective_utility,
    _pipelines,
    _redirect_targets,
    _text,
    _tree,
    _walk,
)

MAX_NESTING = 4  # shell programs inside shell programs (`sh -c "eval '…'"`) read this deep
# What reads an argument as a shell command: shells after -c, eval, ssh's remote command, watch.
SHELL_TEXT_READERS = SHELLS | {"eval"} | set(SHELL_OPERANDS)

BROAD_PATHS = {"/", "/*", "~", "~/", "~/*", "*", ".", "./", "..", "$HOME", "${HOME}", "$HOME/", "/home", "/usr",
               "/etc", "/var", "/boot", "/bin", "/lib", "/root", "/dev", "/sys", "/proc"}
BLOCK_DEVICE = re.compile(r"^/dev/(sd[a-z]|hd[a-z]|vd[a-z]|xvd[a-z]|nvme\d|mmcblk\d|disk\d|md\d|dm-\d|loop\d)")
SHELLS = {"sh", "bash", "zsh", "ksh", "dash", "fish", "python", "python3", "perl", "ruby"}
RUNS_CODE = SHELLS | {"source", ".", "eval", "exec", "node", "php", "python2"}  # run text they are given as code
DOWNLOADERS = {"curl", "wget", "fetch", "aria2c"}
FORK_BOMB = re.compile(r"(\w+|:)\s*\(\s*\)\s*\{\s*\1\s*\|\s*\1\s*&\s*\}\s*;\s*\1")


def _runs_a_download(root) -> bool:
    """A shell or interpreter fed a download through <(…), $(…) or `…`: `bash <(curl URL)`,
    `eval "$(wget -O- URL)"`."""
    for node in _walk(root):
        if node.type != "command" or node.child_by_field_name("name") is None:
            continue
        if _bare(_effective_utility(node)) not in RUNS_CODE:
            continue
        scopes = [node] + (
            [node.parent] if node.parent is not None and node.parent.type == "redirected_statement" else []
        )
        for scope in scopes:
            for inner in _walk(scope):
                if inner.type in ("process_substitution", "command_substitution") and any(
                    utility in DOWNLOADERS for utility, _ in _commands(inner)
                ):
                    return True
    return False


def _downloaded_files(utility: str, arguments: list[str]) -> set[str]:
    """File names a download command saves to: curl -o/--output F, wget -O F (else the URL's last part)."""
    letter, long = {"curl": ("o", "--output"), "wget": ("O", "--output-document")}.get(utility, ("", ""))
    if not letter:
        return set()
    takes_file = re.compile(rf"-[a-zA-Z]*{letter}|{long}")  # -o F, -sSLo F, --output F
    named = {arguments[i + 1] for i, a in enumerate(arguments[:-1]) if takes_file.fullmatch(a)}
    named |= {a.split("=", 1)[1] for a in arguments if a.startswith(long + "=")}
    if utility == "wget" and not named:
        named = {a.rstrip("/").rsplit("/", 1)[-1] for a in arguments if "://" in a}
    return {name.rsplit("/", 1)[-1] for name in named if name and name != "-"}


def _saved_by_redirection(root) -> set[str]:
    """Files a download is written to by the shell: `curl URL > a.sh`, `wget -O- URL >> b.sh`."""
    saved = set()
    for node in _walk(root):
        body = node.child_by_field_name("body") if node.type == "redirected_statement" else None
        if body is None or body.type != "command" or body.child_by_field_name("name") is None:
            continue
        if _bare(_effective_utility(body)) in DOWNLOADERS:
            saved |= {target.rsplit("/", 1)[-1] for target in _redirect_targets(node) if target}
    return saved


def _runs_a_downloaded_file(commands: list[tuple[str, list[str]]], saved: set[str]) -> bool:
    """`curl -o a.sh URL && bash a.sh`, `wget URL/x.sh; sh x.sh`, `… && chmod +x a.sh && ./a.sh`, `curl URL > a.sh;
    bash a.sh` (`saved`: the files downloads were redirected to)."""
    saved = set(saved)
    for utility, arguments in commands:
        name = utility.rsplit("/", 1)[-1]
        runs = name in RUNS_CODE and any(a.rsplit("/", 1)[-1] in saved for a in arguments if not a.startswith("-"))
        if runs or name in saved:  # ./a.sh runs a.sh
            return True
        if name in DOWNLOADERS:
            saved |= _downloaded_files(name, arguments)
    return False


def written_files(code: str) -> set[str]:
    """The files a command writes by redirecting its output (`> f`, `>> f`, `&> f`) or through `tee`."""
    root = _tree(as_text(code)[:MAX_CODE_CHARS]).root_node
    written = set()
    for node in _walk(root):
        if node.type == "file_redirect" and re.match(r"\d*&?>", _text(node)):
            destination = node.child_by_field_name("destination")
            if destination is not None:
                written.add(_bare(_text(destination)))
    for utility, arguments in _commands(root):
        if utility == "tee":
            written |= {_bare(argument) for argument in arguments if not argument.startswith("-")}
    return written


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
    if any(BLOCK_DEVICE.match(a) for a in paths) and utility not in (
        "dd",
        "ls",
        "lsblk",
        "blkid",
        "df",
        "mount",
        "fdisk",
    ):
        found.append("touches a block device")
    return found


def risks(code: str, nesting: int = 0) -> list[str]:
    """Flags for destructive or dangerous commands, also inside the shell programs a command runs (`sh -c "…"`,
    `eval`, `find -exec sh -c`, `sudo`, `timeout`, `watch "…"`); never executes anything."""
    code = as_text(code)
    if not code.strip() or len(code) > MAX_CODE_CHARS:
        return []
    root = _tree(code).root_node
    flags: list[str] = []
    commands = list(_commands(root))
    for utility, arguments in commands:
        flags += _command_risks(utility, arguments)
    for target in _redirect_targets(root):
        if BLOCK_DEVICE.match(target):
            flags.append("writes to a block device")
    for names in _pipelines(root):
        downloads = [i for i, n in enumerate(names) if _bare(n) in DOWNLOADERS]
        if downloads and any(_bare(n) in SHELLS for n in names[downloads[0] + 1 :]):
            flags.append("pipes a download into a shell")
    if _runs_a_download(root) or _runs_a_downloaded_file(commands, _saved_by_redirection(root)):
        flags.append("runs a downloaded script")
    if FORK_BOMB.search(code):
        flags.append("fork bomb")
    if nesting < MAX_NESTING:
        for program in _shell_programs(root):
            flags += risks(program, nesting + 1)
    return list(dict.fromkeys(flags))


def _shell_programs(root):
    """The text of every argument that some command runs as a shell command, as the shell passes it on."""
    for node in _walk(root):
        name = node.child_by_field_name("name") if node.type == "command" else None
        if name is None:
            continue
        arguments = node.children_by_field_name("argument")
        for index, argument in enumerate(arguments):
            if program_argument(_text(name), arguments, index) in SHELL_TEXT_READERS:
                yield _unquoted(_text(argument))


def _unquoted(text: str) -> str:
    """A word as the shell passes it on, after quote removal (as written where that cannot be told)."""
    try:
        words = shlex.split(text)
    except ValueError:
        return text
    return words[0] if len(words) == 1 else text

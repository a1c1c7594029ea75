"""Bash candidates settled between making and ranking them: the Bash language's `settle` member.

Whatever proposed a command (the index's nearest programs, tldr rows, a network's template), the candidate is
its template (bash_template.py) filled from the request (bash_values.py):
- a slot keeps its value only where the request says it, or implies it (`.` for here, `~` for home, a closed
  word of the command's own); else it takes the first value of the request that fits its type, in the
  request's order, each value used once (an age written for its flag: `-mtime -1`, `-mmin -1440`);
- a search root nobody named (`find /`, `find /etc`) becomes `.` unless the request speaks of the whole system;
- a slot nothing fills becomes a visible `{{type}}` placeholder, for the user to fill in;
- values are written by `bash.write_values`, quoted for their context; one that cannot be written safely
  leaves the placeholder.
Then each candidate's score says how well it fits the request: plus for a utility the request names ("with
rsync"), minus for each value of the request it leaves unused and each placeholder it opens; a command whose
utility is not installed here (looked up on PATH, cached) ranks after those that are, unless the request names it.
"""

from __future__ import annotations

import functools
import re
import shutil
from dataclasses import replace

from cfgen.languages.bash_template import SLOT, fill, template
from cfgen.languages.bash_values import Value, age_for, request_values, says_home, says_root
from cfgen.ranking import Candidate

# Score per request value left out, per slot opened, for a utility the request names. (Bonuses per value held
# and per word saved were tried: they lifted the exec bench a little and cost template match on NL2Bash dev.)
UNUSED, OPENED, NAMED = 0.05, 0.1, 0.2
REWRITE_CLOCKS = True  # "older than 3 days" reads the modification time: -ctime/-atime become -mtime
NOT_INSTALLED_GROUPS = 2  # groups a command whose utility is not on PATH moves back
_WRAPPERS = {"sudo", "env", "time", "nohup", "nice", "command", "exec", "xargs"}
_SEARCH_ROOTS = {"find", "du", "ls", "tree", "fd"}  # their first operand is where to look: here unless named
_CODE_LIKE = re.compile(r"[{}$%\\|;()<>=\[\]]")
# Tools whose first plain words are subcommands (`docker container stop`, `git branch`): structure, not values.
_SUBCOMMAND_TOOLS = {"git", "docker", "podman", "kubectl", "systemctl", "apt", "apt-get", "npm", "yarn", "pip",
                     "pip3", "cargo", "go", "brew", "snap", "flatpak", "gh", "helm", "conda", "dnf", "yum",
                     "pacman", "journalctl", "service", "ip", "nmcli", "tmux", "screen", "az", "aws", "gcloud"}
_BUNDLED_FLAG_TOOLS = {"tar", "ps", "ar", "jar"}
# Flags whose argument is a closed word of the command's own (`-type f`, `-maxdepth 1` is a number slot).
_STRUCTURAL_FLAGS = {"-type", "-xtype", "-f", "--format", "-o", "--output-format", "-t", "--type", "-s", "-exec",
                     "-execdir", "-ok", "xargs", "sudo", "env", "time", "watch"}
# Age flags that read another clock than the modification time, and the words that ask for that clock.
_OTHER_CLOCKS = {"-ctime": "-mtime", "-atime": "-mtime", "-cmin": "-mmin", "-amin": "-mmin"}
_CLOCK_WORDS = re.compile(r"\b(?:access\w*|status|chang\w*|inode|metadata|read)\b", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\{\{.*?\}\}")
_DEVICES = {"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/stdin", "/dev/zero", "/dev/urandom", "/dev/random", "-"}


def settle(rows: list[list[Candidate]], requests: list[str], answer_parts, last_group: int) -> list[list[Candidate]]:
    """Every request's candidates grounded in it and scored by their fit (see the module's contract)."""
    settled = []
    for row, request in zip(rows, requests):
        values = request_values(request)  # read once per request, not per candidate
        settled.append([grounded(candidate, request, values) for candidate in row])
    return settled


def grounded(candidate: Candidate, request: str, values: list[Value] | None = None) -> Candidate:
    values = request_values(request) if values is None else values
    code, used, opened = ground(candidate.code, request, values)
    unused = sum(1 for value in values if value.text not in code and not _said_in(value, code))
    utility = utility_of(code)
    score = candidate.score - UNUSED * unused - OPENED * opened
    named = bool(utility) and bool(re.search(rf"\b{re.escape(utility)}\b", request, re.IGNORECASE))
    score += NAMED * named
    # a utility the request names is what it asks for, installed here or not (a team's own tool, another host's)
    group = candidate.group + (0 if not utility or named or installed(utility) else NOT_INSTALLED_GROUPS)
    stand_ins = tuple(value for value in candidate.stand_ins if value in code)
    return replace(candidate, code=code, score=score, group=group, stand_ins=stand_ins)


def ground(code: str, request: str, values: list[Value]) -> tuple[str, int, int]:
    """`code` with its slots filled from the request: (the command, request values it took, slots opened). A
    command with no exact template is as it is."""
    made = template(code)
    if made is None:
        return code, 0, 0
    tokens, held = list(made.tokens), list(made.values)
    unused = list(values)
    written: list[tuple[str, str | None]] = []  # per slot: (kind, the value to write, or None: open)
    kept: list[str | None] = []  # per slot: the text that stays (None: a placeholder goes there)
    slot, used, opened, utility, operands = 0, 0, 0, "", 0
    said: set[str] = set()  # request values a slot kept: a second slot does not say the same one again
    for i, token in enumerate(tokens):
        if i == 0 or tokens[i - 1] in ("|", "&&", "||", ";"):
            utility, operands = token, 0
        if REWRITE_CLOCKS and token in _OTHER_CLOCKS and not _CLOCK_WORDS.search(request):
            tokens[i] = _OTHER_CLOCKS[token]  # "older than 3 days" asks about the modification time
        if token == "/" and utility in _SEARCH_ROOTS and not says_root(request):
            tokens[i], held[slot:slot] = "{{path}}", ["/"]  # the root as a value: the request may name another
        match = SLOT.search(tokens[i])
        if match is None:
            continue
        kind, value, previous = match.group(1), held[slot], tokens[i - 1] if i else ""
        slot += 1
        operands += not previous.startswith("-")
        fuller = any(v.text != value and value.strip("'\"") in v.text and kind in v.fits for v in unused)
        if _structure(value, previous, utility, operands) or (
                _stays(value, kind, request, values) and value not in said and not fuller):
            said.update({value} if _said(value, request) else set())
            unused = [v for v in unused if v.text != value.strip("'\"")]
            kept.append(value)
            continue
        root = kind == "path" and utility in _SEARCH_ROOTS and operands == 1 and tokens[i] == "{{path}}"
        chosen = _fitting(kind, unused, root)
        if chosen is not None:
            unused.remove(chosen)
            used += 1
            text = age_for(chosen, previous) if kind == "timespan" and chosen.unit else chosen.text
            if kind == "pattern" and re.fullmatch(r"\.\w{1,8}", text):
                text = "*" + text  # "the extension .md": every file that has it
            if kind in ("timespan", "size", "number") and re.fullmatch(r"[+-]\w+", text):
                # the comparison is structure (`-mtime +3`): the sign goes in the token, the amount in the slot,
                # so that no value of the request is ever written where a flag could start
                tokens[i] = text[0] + tokens[i].lstrip("+-")
                text = text[1:]
            kept.append(None)
            written.append((kind, text))
        elif root:
            kept.append("~" if says_home(request) else ".")  # a search root nobody named: here
        elif _PLACEHOLDER.fullmatch(value):  # a page's own placeholder says more than `{{path}}`
            kept.append(value)
            opened += 1
        else:
            kept.append(None)
            written.append((kind, None))
            opened += 1
    filled = fill(tokens, [value if value is not None else "{{%s}}" % kind for value, kind in
                           zip(kept, _kinds(tokens))])
    return _written(filled, written), used, opened


def _kinds(tokens: list[str]) -> list[str]:
    return [match.group(1) for token in tokens if (match := SLOT.search(token)) is not None]


def _stays(value: str, kind: str, request: str, values: list[Value]) -> bool:
    """Whether a slot keeps the program's value: the request says it (or a value of the request is written in
    it: `:8080` for "port 8080"), or it is the program's own code (an awk program, a format), not a value
    someone asked for."""
    if _PLACEHOLDER.fullmatch(value):
        return False
    if value in _DEVICES:
        return True
    bare = value.strip("'\"")
    if _said(value, request) or any(len(v.text) >= 2 and v.text in bare for v in values):
        return True
    return kind in ("text", "regex") and bool(_CODE_LIKE.search(bare))


def _said(value: str, request: str) -> bool:
    bare = value.strip("'\"")
    return bool(bare) and bool(re.search(rf"(?<![\w.]){re.escape(bare)}(?![\w])", request))


def _structure(value: str, previous: str, utility: str, operands: int) -> bool:
    """A plain word that is the command's own: a subcommand (`git branch`'s branch, `docker container stop`'s
    first two words), tar's or ps's bundled flags (`tar xzf`), or the argument of a flag that takes a closed
    word (`-type f`)."""
    if not re.fullmatch(r"[a-z][\w-]*", value):
        return False
    if utility in _BUNDLED_FLAG_TOOLS and operands == 1 and len(value) <= 6:
        return True
    return previous in _STRUCTURAL_FLAGS or (utility in _SUBCOMMAND_TOOLS and operands <= 2 and
                                             not previous.startswith("-"))


def _fitting(kind: str, unused: list[Value], root: bool = False) -> Value | None:
    """The request's first unused value that fits a slot of this kind, the best fit first; a search root (`find
    DIR`) takes a folder, never a file name or a pattern."""
    for rank in range(4):
        for value in unused:
            if len(value.fits) > rank and value.fits[rank] == kind and not (root and _file_like(value.text)):
                return value
    return None


def _file_like(text: str) -> bool:
    return "*" in text or bool(re.search(r"\.[A-Za-z0-9]{1,8}$", text))


def _written(filled: str, written: list[tuple[str, str | None]]) -> str:
    """The filled text with each opened slot's placeholder replaced by its value, quoted for its context by
    `bash.write_values`; a slot with no value (or none that can be written safely) keeps its placeholder."""
    from cfgen.languages import get_language
    from cfgen.languages.bash_quoting import Edit

    edits = [Edit(match.start(), match.end(), value, expand_globs=kind != "pattern")
             for match, (kind, value) in zip(SLOT.finditer(filled), written) if value is not None]
    return get_language("bash").write_values(filled, edits) if edits else filled


def _said_in(value: Value, code: str) -> bool:
    """A request value the code holds in another spelling (`*.csv` as `"*.csv"`, `20MB` as `20M`)."""
    bare = value.text.lstrip("+-").strip("*.")
    return bool(bare) and bare in code


def utility_of(code: str) -> str:
    """The command's utility: its first word, past wrappers (sudo, env, …)."""
    for word in code.split():
        if word not in _WRAPPERS and not re.fullmatch(r"[A-Za-z_]\w*=.*|-.*", word):
            return word if re.fullmatch(r"[\w.+-]+", word) else ""
    return ""


@functools.lru_cache(maxsize=1024)
def installed(utility: str) -> bool:
    """Whether `utility` is a command on this machine's PATH (or a shell builtin)."""
    return utility in _BUILTINS or shutil.which(utility) is not None


_BUILTINS = {"cd", "echo", "printf", "export", "read", "source", ".", "alias", "set", "unset", "history", "kill",
             "pwd", "type", "ulimit", "umask", "wait", "jobs", "fg", "bg", "test", "[", "true", "false", "for",
             "while", "if", "case", "until", "declare", "local", "trap", "exit", "return", "shift", "eval"}

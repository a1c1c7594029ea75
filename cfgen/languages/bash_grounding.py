"""Bash candidates settled between making and ranking them: the Bash language's `settle` member.

Whatever proposed a command (the index's nearest programs, tldr rows, a network's template), the candidate is
its template (bash_template.py) filled from the request (bash_values.py):
- a slot keeps its value only where the request says it, or implies it (`.` for here, `~` for home, a closed
  word of the command's own); else it takes the first value of the request that fits its type, in the
  request's order, each value used once (an age written for its flag: `-mtime -1`, `-mmin -1440`);
- a search root nobody named (`find /`, `find /etc`) becomes `.` unless the request speaks of the whole system;
- a sed script the program holds (`'s/foo/bar/g'`) takes what the request's "replace X with Y" replaces and
  with what, where sed reads those words as themselves (else they are placeholders); without one it is the
  program's own code;
- a slot nothing fills becomes a visible `{{type}}` placeholder, for the user to fill in;
- values are written by `bash.write_values`, quoted for their context; one that cannot be written safely
  leaves the placeholder.
Then each candidate's score says how well it fits the request: plus for a utility the request names ("with rsync",
the pager "less" in `cat -n f | less`; an archive's extension names its tool: tar for "extract b.tar"), minus for
each value of the request it leaves unused (more for a size, age, mode, URL, substitution, count of lines or the
folder a result goes to) and each placeholder it opens, and as much for `head` where the request asks for the last
lines (`tail` for the first) and for a negation nobody asked for (`! -name`, `grep -v`); a command whose utility is
not installed here (looked up on PATH, cached) and is no everyday one (bash_common: those NL2Bash's people reach
for) ranks after those that are, unless the request names it, and so does one that writes to a file the request
names only to read (`… > a.txt` for "print the md5 of a.txt").
"""

from __future__ import annotations

import re
from dataclasses import replace

from cfgen.languages.bash_common import EVERYDAY, WRAPPERS, utility_of
from cfgen.languages.bash_installed import runs_a_value, installed, niche
from cfgen.languages.bash_risks import written_files
from cfgen.languages.bash_scripts import SED_SCRIPT, parts_inside, rescripted
from cfgen.languages.bash_template import SLOT, fill, template
from cfgen.languages.bash_asks import (archive_tool, asks_to_write, entry_type, names_utility, says_negation,
                                       shows_other_end)
from cfgen.languages.bash_values import Value, age_flag, age_for, is_target, request_values, says_home, says_root
from cfgen.ranking import Candidate

# Score per request value left out, per slot opened, for a utility the request names. (Bonuses per value held
# and per word saved were tried: they lifted the exec bench a little and cost template match on NL2Bash dev.)
UNUSED, OPENED, NAMED = 0.05, 0.1, 0.2
# A size, age, mode, URL, substitution, count of lines or target folder the request gives is a requirement, not a
# detail: a command without it does another job.
UNUSED_TYPED = 0.15
_TYPED = {"size", "timespan", "permission", "url", "substitution"}
REWRITE_CLOCKS = True  # "older than 3 days" reads the modification time: -ctime/-atime become -mtime
NOT_INSTALLED_GROUPS = 2  # groups a command whose utility is not on PATH moves back

_SEARCH_ROOTS = {"find", "du", "ls", "tree", "fd"}  # their first operand is where to look: here unless named
_CODE_LIKE = re.compile(r"[{}$%\\|;()<>=\[\]]")
# Tools whose first plain words are subcommands (`docker container stop`, `git branch`): structure, not values.
_SUBCOMMAND_TOOLS = {"git", "docker", "podman", "kubectl", "systemctl", "apt", "apt-get", "npm", "yarn", "pip",
                     "pip3", "cargo", "go", "brew", "snap", "flatpak", "gh", "helm", "conda", "dnf", "yum",
                     "pacman", "journalctl", "service", "ip", "nmcli", "tmux", "screen", "az", "aws", "gcloud"}
_BUNDLED_FLAG_TOOLS = {"tar", "ps", "ar", "jar"}
# Flags whose argument is a closed word of the command's own (`-type f`, `-maxdepth 1` is a number slot).
_STRUCTURAL_FLAGS = {"-type", "-xtype", "-f", "--format", "-o", "--output-format", "--type", "-s", "-exec",
                     "-execdir", "-ok", "xargs", "sudo", "env", "time", "watch"}
# Age flags that read another clock than the modification time, and the words that ask for that clock.
_OTHER_CLOCKS = {"-ctime": "-mtime", "-atime": "-mtime", "-cmin": "-mmin", "-amin": "-mmin"}
_CLOCK_WORDS = re.compile(r"\b(?:access\w*|status|chang\w*|inode|metadata|read)\b", re.IGNORECASE)
_ROOT_LITERALS = {"/", ".", "~"}  # a search root the program wrote as a literal: where the request may name a folder
_REDIRECTS = {">", ">>", "<", "2>", "&>"}  # a redirection's file is a name, never a glob
_AGE_FLAGS = {"-mtime", "-atime", "-ctime", "-mmin", "-amin", "-cmin"}
_PLACEHOLDER = re.compile(r"\{\{.*?\}\}")
# Flags whose argument is a file-name pattern, whatever the program held there (`-name foo.txt` is one too).
_PATTERN_FLAGS = {"-name", "-iname", "-path", "-ipath", "-wholename", "--include", "--exclude", "--glob", "-g"}
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
    code, used, opened = ground(candidate.code, request, values, candidate.page)
    unused = [value for value in values if value.text not in code and not _said_in(value, code)]
    utility = utility_of(code)
    score = candidate.score - OPENED * opened - sum(
        UNUSED_TYPED if value.fits[0] in _TYPED or value.unit == "lines" or is_target(value, request) else UNUSED
        for value in unused)
    named = bool(utility) and not runs_a_value(candidate.code) and any(
        names_utility(each, request) for each in _command_utilities(code)) or archive_tool(utility, request)
    score += NAMED * named - OPENED * (shows_other_end(utility, request) + _negates_unasked(code, request))
    group = candidate.group + NOT_INSTALLED_GROUPS * (niche(code, request) or _clobbers(code, request, values))
    stand_ins = tuple(value for value in candidate.stand_ins if value in code)
    return replace(candidate, code=code, score=score, group=group, stand_ins=stand_ins)


def _negates_unasked(code: str, request: str) -> bool:
    """Whether the command keeps what does not match (find's `!`/`-not`, `grep -v`) where the request asks for no
    such thing."""
    return bool(_NEGATING.search(code)) and not says_negation(request)


_NEGATING = re.compile(r"(?:^|\s)(?:!|-not|--invert-match)(?=\s)|\bgrep\s+(?:-\w*\s+)*-\w*v")


def _clobbers(code: str, request: str, values: list[Value]) -> bool:
    """Whether the command overwrites or appends to a file the request names only to read ("print the md5 of
    a.txt" is never `… > a.txt`; "print the list to out.txt" may be `… > out.txt`)."""
    read = {value.text for value in values if "path" in value.fits and not is_target(value, request)}  # not "to b"
    return bool(read & written_files(code)) and not asks_to_write(request)


def ground(code: str, request: str, values: list[Value], page: bool = False) -> tuple[str, int, int]:
    """`code` with its slots filled from the request: (the command, request values it took, slots opened). A
    command with no exact template is as it is. A page's program (`page`) keeps its plain words (`ss … src
    :8080`'s src is syntax): only its placeholders and its typed values (numbers, paths, globs) are the request's
    to fill."""
    made = template(_one_reading(code))
    if made is None:
        return code, 0, 0
    tokens, held = _with_search_root(list(made.tokens)), list(made.values)
    commands = set(_utilities(tokens))
    # `less` in "the pager less" is the tool; a value the program already holds as said stays where it is
    held_said = {value.strip("'\"") for value in held if _said(value, request)}
    unused = [value for value in values if value.text not in commands and value.text not in held_said]
    written: list[tuple[str, str | None]] = []  # per slot: (kind, the value to write, or None: open)
    kept: list[str | None] = []  # per slot: the text that stays (None: a placeholder goes there)
    slot, used, opened, utility, operands = 0, 0, 0, "", 0
    said: set[str] = set()  # request values a slot kept: a second slot does not say the same one again
    scripts: list[tuple[str, list]] = []  # (a program the command holds, the request's words for its parts)
    for i, token in enumerate(tokens):
        if i == 0 or tokens[i - 1] in ("|", "&&", "||", ";"):
            utility, operands = token, 0
        if REWRITE_CLOCKS and token in _OTHER_CLOCKS and not _CLOCK_WORDS.search(request):
            tokens[i] = _OTHER_CLOCKS[token]  # "older than 3 days" asks about the modification time
        root = token in _ROOT_LITERALS and utility in _SEARCH_ROOTS and operands == 0 and i > 0
        if root:
            tokens[i], held[slot:slot] = "{{path}}", [token]  # where to look, as a value: the request may name it
        match = SLOT.search(tokens[i])
        if match is None:
            continue
        kind, value, previous = match.group(1), held[slot], tokens[i - 1] if i else ""
        kind = "pattern" if previous in _PATTERN_FLAGS else kind
        slot += 1
        operands += not previous.startswith("-")
        said_inside = {kind: _fitting(kind, unused) for kind in ("substitution", "field")}
        inside = parts_inside(value, utility, *(v.text if v else None for v in said_inside.values()))
        if inside is not None:  # the program's own code, to take the request's words (bash_scripts)
            unused.remove(said_inside[inside[0]])
            used += 1
            scripts.append((value, inside[1]))
            kept.append(value)
            continue
        script = SED_SCRIPT.fullmatch(value)
        fuller = any(v.text != value and value.strip("'\"") in v.text and kind in v.fits
                     and not v.text.startswith(value.strip("'\"").rstrip("/") + "/") for v in unused)  # not /etc/x
        # a plain word the request happens to say ("disk usage") is no value it gives: one it gives goes there
        fuller = fuller or _merely_said(value, values) and any(
            v.fits[0] == kind or kind in v.fits and not v.text.isalpha() for v in unused)
        if previous == "-type" and value in ("f", "d"):
            value = held[slot - 1] = entry_type(request, value)
        syntax = page and bool(re.fullmatch(r"[a-z][\w-]*", value))  # a page spells its values {{so}}
        runs_it = i == 0 or previous in ("|", "&&", "||", ";", "$(", "`", "(", "sudo", "env", "xargs", "exec")
        if not root and (runs_it or syntax or script or _structure(value, previous, utility, operands) or
                         _runs(value, commands) or (_stays(value, kind, request, values) and value not in said
                                                    and not fuller)):
            said.update({value} if _said(value, request) else set())
            unused = [v for v in unused if v.text != value.strip("'\"")]
            kept.append(value)
            continue
        root = root or (kind == "path" and utility in _SEARCH_ROOTS and operands == 1 and tokens[i] == "{{path}}"
                        and not previous.startswith("-"))
        inner = _inner_value(value)
        if inner is not None:
            kind = _placeholder_slot(inner.group()) if inner.group().startswith("{{") else "number"
        chosen = _fitting(kind, unused, root, globs=previous not in _REDIRECTS, later=_kinds(tokens[i + 1:]))
        if chosen is not None:
            unused.remove(chosen)
            used += 1
            tokens[i - 1], tokens[i], text = _value_for_slot(chosen, kind, previous, tokens[i])
            if inner is not None:
                text = value[:inner.start()] + text + value[inner.end():]
            kept.append(None)
            written.append((kind, text))
        elif root:
            kept.append(_default_root(value, request))
        elif _PLACEHOLDER.fullmatch(value):  # a page's own placeholder says more than `{{path}}`
            kept.append(value)
            opened += 1
        else:
            kept.append(None)
            written.append((kind, None))
            opened += 1
    filled = fill(tokens, [value if value is not None else "{{%s}}" % kind for value, kind in
                           zip(kept, _kinds(tokens))])
    code, unwritten = rescripted(_written(filled, written), scripts)
    return code, used, opened + unwritten


def _one_reading(code: str) -> str:
    """A page's placeholders with one reading each: its options and alternatives (`{{source.tar[.gz|.xz]}}`,
    `{{name | id}}`, a choice of flags) would otherwise be read as the shell's pipes."""
    def simplified(match: re.Match) -> str:
        inner = re.sub(r"\[[^\]]*\]", "", match.group(1)).split("|")[0].strip()
        if re.fullmatch(r"--?[\w-]+", inner):  # a choice of flags (`{{--context|--before-context}}`): the first
            return inner
        return "{{%s}}" % (inner or "value")

    return re.sub(r"\{\{([^{}]*[|\[][^{}]*)\}\}", simplified, code)


def _with_search_root(tokens: list[str]) -> list[str]:
    """A `find` that names no folder to search searches here: the `.` is written, so that a folder the request
    names has its place (`find -type f` → `find . -type f`)."""
    out = []
    for i, token in enumerate(tokens):
        out.append(token)
        starts = i == 0 or tokens[i - 1] in ("|", "&&", "||", ";", "$(", "`", "sudo")
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        no_folder = not following or following in ("|", "&&", "||", ";", ")") or \
            following.startswith("-") and following not in ("-", "-L", "-H", "-P", "--version", "--help")
        if token == "find" and starts and no_folder:
            out.append(".")
    return out


def _value_for_slot(chosen: Value, kind: str, previous: str, token: str) -> tuple[str, str, str]:
    """(the flag before the slot, the slot's token, the value's text) for a request value put in a slot: an age
    written for its flag (`-mtime -1`, or `-mmin -60` for an hour), a bare extension as a glob (`*.md`), and a
    comparison's sign in the token, never in the value (`-mtime +3`: no value can start a flag), kept only where
    the flag reads one (find's -size and ages)."""
    text = chosen.text
    if kind == "timespan" and chosen.unit:
        previous = age_flag(chosen, previous)
        text = age_for(chosen, previous)
    if kind == "pattern" and re.fullmatch(r"\.\w{1,8}", text):
        text = "*" + text  # "the extension .md": every file that has it
    if kind in ("timespan", "size", "number") and re.fullmatch(r"[+-]\w+", text):
        signed = previous == "-size" or previous in _AGE_FLAGS
        token = (text[0] if signed else "") + token.lstrip("+-")
        text = text[1:] if signed or previous == "-size" else text[1:].removesuffix("c")
    elif kind == "timespan" and previous in _AGE_FLAGS:
        token = token.lstrip("+-")  # "50 days ago" is exactly 50: `-mtime 50`
    return previous, token, text


def _inner_value(value: str) -> re.Match | None:
    """The value inside a plain word that the request may name: a page's placeholder (`:{{port}}`) or a number
    between punctuation (`:8080`); None for a word that is one value, or a quoted one (the quotes are the word's)."""
    if _PLACEHOLDER.fullmatch(value) or re.search(r"['\"]", value):
        return None
    return _PLACEHOLDER.search(value) or re.fullmatch(r"[^\w\s]+(\d+)[^\w\s]*|[^\w\s]*(\d+)[^\w\s]+", value) and \
        re.search(r"\d+", value)


def _placeholder_slot(placeholder: str) -> str:
    """The slot type of a page's `{{placeholder}}` (`{{port}}` takes a number)."""
    from cfgen.languages.bash_template import slot_type

    return slot_type(placeholder)


def _default_root(held: str, request: str) -> str:
    """Where to look when the request names no folder: the whole system only where it says so, home where it
    says home, else the program's own `.` or `~`, or here."""
    if says_home(request):
        return "~"
    if held == "/" and says_root(request):
        return "/"
    return held if held in (".", "~") else "."


def _command_utilities(code: str) -> list[str]:
    made = template(code)
    return _utilities(list(made.tokens)) if made is not None else [utility_of(code)]


def _utilities(tokens: list[str]) -> list[str]:
    """The utilities a template's commands run: each command's first word (and a wrapper's or xargs' command)."""
    found, expect = [], True
    for token in tokens:
        if expect and not SLOT.search(token) and re.fullmatch(r"[\w.+-]+", token) and not token.startswith("-"):
            found.append(token)
            expect = token in WRAPPERS
        elif token in ("|", "&&", "||", ";", "`", "$(", "-exec", "-execdir"):
            expect = True
    return found


def _runs(value: str, commands: set[str]) -> bool:
    """A value that is a command which the program runs (`xargs -n 1 cp`, `-exec rm`): code, not a value."""
    return bool(commands & (WRAPPERS | {"-exec"})) and (installed(value) or value in EVERYDAY)


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
    if _said(value, request) or any(_written_in(v.text, bare) for v in values):
        return True
    return kind in ("text", "regex") and bool(_CODE_LIKE.search(_PLACEHOLDER.sub("", bare)))


def _written_in(text: str, value: str) -> bool:
    """Whether a request's value is written inside a program's value with punctuation only around it (`:8080`
    for 8080), not as part of another name (`/etc` in `/etc/motd`)."""
    return len(text) >= 2 and text in value and not re.search(r"[A-Za-z0-9]", value.replace(text, ""))


def _merely_said(value: str, values: list[Value]) -> bool:
    """A program's plain word that the request says as a word, not as one of its values."""
    return bool(re.fullmatch(r"[a-z][a-z-]*", value)) and value not in {v.text for v in values}


def _said(value: str, request: str) -> bool:
    bare = value.strip("'\"")
    return bool(bare) and bool(re.search(rf"(?<![\w.]){re.escape(bare)}(?![\w])", request))


def _structure(value: str, previous: str, utility: str, operands: int) -> bool:
    """A plain word that is the command's own: a subcommand (`git branch`'s branch, `docker container stop`'s
    first two words), tar's or ps's bundled flags (`tar xzf`), or the argument of a flag that takes a closed
    word (`-type f`)."""
    if value.strip("'\"") in ("+", ";", "{}", "!", "-o", "-a", "-not", "-or", "-and", "(", ")", "\\(", "\\)"):
        return True  # find's terminator, quoted (`{} '+'`), and its operators (`! -perm …`)
    if not re.fullmatch(r"[a-z][\w-]*", value):
        return False
    if utility in _BUNDLED_FLAG_TOOLS and operands == 1 and len(value) <= 6:
        return True
    return previous in _STRUCTURAL_FLAGS or (utility in _SUBCOMMAND_TOOLS and operands <= 2 and
                                             not previous.startswith("-"))


def _fitting(kind: str, unused: list[Value], root: bool = False, globs: bool = True,
             later: list[str] = ()) -> Value | None:
    """The request's first unused value that fits a slot of this kind, the best fit first; a search root (`find
    DIR`) takes a folder (a value read as a place first: a quoted word is no folder unless said as one), never a
    file name or a pattern; a slot that takes no glob (a redirection's file) none; a value that fits a `later`
    slot's kind best is left for it (a file for `grep PATTERN FILE`'s FILE, not its PATTERN)."""
    for rank in range(1 if root else 5):
        for value in unused:
            if len(value.fits) > rank and value.fits[rank] == kind and not (root and _file_like(value.text)) \
                    and (globs or "*" not in value.text) and not (rank and value.fits[0] in later):
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

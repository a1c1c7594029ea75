"""The values a request names (quoted text, numbers, paths), and copying them into retrieved code.

A retrieved training program carries the values of *its* request: "files
older than 7 days" retrieves `find . -mtime +7` for "files older than 3
days". `transfer` swaps each value the training request named that occurs in
the program for the value in the same place of the new request (the k-th number
for the k-th number, the k-th quoted text for the k-th quoted text), as
CoNaLa's preprocessing does with its slots. `mask` replaces the values by
numbered placeholders, so that retrieval compares what is asked, not the
names it is asked about (measured on dev: better for Python and CF, worse
for bash, whose requests name few values; see README). The retrieval index
(retrieval.py) decides, per request, which comparison to make.
"""

from __future__ import annotations

import re

from cfgen.languages import get_language, optional
from cfgen.languages.bash_quoting import Edit
from cfgen.languages.bash_template import SLOT_TYPES

# Quoted text: `x`, 'x' or "x"; a single quote opens only after a non-word character
# and closes only before one, so that apostrophes ("don't", "user's") are not quotes.
_QUOTED = r"`(?P<backtick>[^`]+)`|(?<!\w)'(?P<single>[^'\s][^']*)'(?!\w)|\"(?P<double>[^\"]+)\""
_NUMBER = r"(?<![\w.])(?P<number>\d+(?:\.\d+)?)(?![\w.])"
# Paths and file patterns: /tmp/x, ./a, ~/b, *.txt, .bashrc, notes.txt
_PATH = r"(?<![\w.`'\"])(?P<path>(?:~|\.{1,2})?/[\w./*-]*|\*?\.\w+|[\w-]+\.[A-Za-z][A-Za-z0-9]{0,3}(?!\.?\w))"
_VALUE = re.compile("|".join((_QUOTED, _NUMBER, _PATH)))
_KIND_OF_GROUP = {"backtick": "quoted", "single": "quoted", "double": "quoted", "number": "number", "path": "path"}

Values = list[tuple[str, str]]  # (kind, value) in order, as find_values gives them

# Longest requests scanned: a bound on work for pathological input.
_MAX_SCANNED = 4096


def find_values(text: str) -> Values:
    """(kind, value) of every value the text names, in order; kind is quoted, number or path."""
    return [_kind_and_value(match) for match in _VALUE.finditer(text[:_MAX_SCANNED])]


def _kind_and_value(match: re.Match) -> tuple[str, str]:
    group = match.lastgroup
    return _KIND_OF_GROUP[group], match.group(group)


def mask(text: str) -> str:
    """The text with each value replaced by a numbered placeholder (`quoted0`, `number0`, ...)."""
    counts: dict[str, int] = {}

    def placeholder(match: re.Match) -> str:
        kind, _ = _kind_and_value(match)
        counts[kind] = counts.get(kind, -1) + 1
        return f"`{kind}{counts[kind]}`"

    return _VALUE.sub(placeholder, text[:_MAX_SCANNED]) + text[_MAX_SCANNED:]


def transfer(code: str, source_values: Values, values: Values, lang: str) -> str:
    """`code`, written for a request naming `source_values`, with them replaced by `values`.

    A value is swapped only where it occurs in the code, as a whole word when it
    is one; values without a counterpart of the same kind stay as they are. In
    bash a value is written for its context and proved by a parse
    (`bash_quoting.substitute`); one that cannot be written safely there leaves
    the training value in place.
    """
    replacements = _pair_values(source_values, values)
    replacements = {old: new for old, new in replacements.items() if old in code and old != new}
    if not replacements:
        return code
    pattern = re.compile("|".join(_occurrence(old) for old in sorted(replacements, key=len, reverse=True)))
    return written_in(code, [Edit(m.start(), m.end(), replacements[m.group(0)]) for m in pattern.finditer(code)], lang)


_URL = re.compile(r"\b(?:https?|ftp)://[^\s'\"`<>]+")
# Which of a request's values may fill a placeholder of each kind (tldr.placeholder_kind), in order of preference.
_FITS = {"path": ("path", "quoted"), "pattern": ("quoted", "path"), "number": ("number",), "port": ("number",),
         "url": ("url", "quoted"), "user": ("quoted",), "text": ("quoted",), "regex": ("quoted",),
         "size": ("size", "number"), "timespan": ("number",), "permission": ("number", "quoted")}
# Sizes as a request says them ("100MB", "2 GB", "500 bytes"), written as find -size and du take them (100M).
_SIZE = re.compile(r"(?<![\w.])(\d+)\s?(?:([kKMGT])(?:i?B)?|(bytes?))(?!\w)")


def _sizes(text: str) -> list[tuple[str, str]]:
    return [("size", match.group(1) + (match.group(2).replace("K", "k") if match.group(2) else "c"))
            for match in _SIZE.finditer(text)]


def fill_placeholders(code: str, request: str, lang: str = "bash") -> str:
    """`code`'s `{{placeholders}}` (tldr-style pages, or a slots model's output) filled with the values `request`
    names, by kind, in order: `tar xf {{path/to/source.tar}}` for "extract backup.tar" is `tar xf backup.tar`.
    A value fills one placeholder; a placeholder no value fits stays as written, for the user to see and fill
    in. In bash a value is written for its context and proved by a parse (`bash_quoting.substitute`): where it
    cannot be (an awk program, `sh -c` text), the placeholder stays; in other languages a value goes in as it is."""
    if "{{" not in code:
        return code
    return written_in(code, request_edits(code, request), lang)


def written_in(code: str, edits: list[Edit], lang: str) -> str:
    """`code` with `edits` made: by the language's own `write_values` where it has one (Bash quotes each value for
    its context, or leaves it out), else each value as it is."""
    write_values = optional(get_language(lang), "write_values")
    if write_values is not None:
        return write_values(code, edits)
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        code = code[: edit.start] + edit.value + code[edit.end :]
    return code


def request_edits(code: str, request: str) -> list[Edit]:
    """For each of `code`'s placeholders, in order, the value `request` names that fits its kind, if any (each
    value used once): the edits fill_placeholders makes."""
    from cfgen.training.tldr import PLACEHOLDER, placeholder_kind

    scanned = request[:_MAX_SCANNED]
    values = [("url", url) for url in _URL.findall(scanned)] + _sizes(_URL.sub(" ", scanned))
    values += find_values(_SIZE.sub(" ", _URL.sub(" ", scanned)))
    unused = list(values)
    edits: list[Edit] = []
    for match in PLACEHOLDER.finditer(code):
        kind = match.group(1) if match.group(1) in SLOT_TYPES else placeholder_kind(match.group(1))
        chosen = _value_for(kind, unused)
        if chosen is not None:
            unused.remove(chosen)
            # a glob for a pattern is quoted in a plain word, so that the command, not the shell, expands it
            edits.append(Edit(match.start(), match.end(), chosen[1], expand_globs=kind != "pattern"))
    return edits


def _value_for(kind: str, unused: Values) -> tuple[str, str] | None:
    """The first of the request's unused values that fits a placeholder of this kind (a glob first for a pattern)."""
    if kind == "pattern":
        globbed = next((v for v in unused if v[0] == "path" and "*" in v[1]), None)
        if globbed is not None:
            return globbed
    for wanted in _FITS[kind]:
        found = next((v for v in unused if v[0] == wanted and (kind != "path" or "*" not in v[1])), None)
        if found is not None:
            return found
    return None


def abstract_values(code: str, request: str) -> str:
    """`code` with the values `request` names, and its stand-ins (myfile.txt), as typed placeholders
    (`{{path}}`, `{{pattern}}`, `{{number}}`, `{{text}}`) that fill_placeholders fills back by kind: what a
    slots model learns to write, so that it learns a command's shape rather than its training values.
    Code that already holds placeholders (a tldr page's) is left as it is."""
    if "{{" in code:
        return code
    slot_of = {value: _slot_name(kind, value) for kind, value in find_values(request) if value in code}
    slot_of.update({value: "path" for value in stand_ins(code, request)})
    if not slot_of:
        return code
    pattern = re.compile("|".join(_occurrence(value) for value in sorted(slot_of, key=len, reverse=True)))

    def slot(match: re.Match) -> str:
        if code[: match.start()].endswith(("$", "${")) or re.match(r"\+?=", code[match.end():]):
            return match.group(0)  # a variable's name, not a value
        return "{{" + slot_of[match.group(0)] + "}}"

    return pattern.sub(slot, code)


def _slot_name(kind: str, value: str) -> str:
    if kind == "number":
        return "number"
    if kind == "path" or (kind == "quoted" and _PATH_LIKE.fullmatch(value)):
        return "pattern" if "*" in value else "path"
    return "text"


_PATH_LIKE = re.compile(r"(?:~|\.{1,2})?/\S*|[\w.*-]+\.[A-Za-z][A-Za-z0-9]{0,3}|\S+/\S*")


# Stand-in values NL2Bash programs carry where their request named none: /path/to/dir, myfile.txt, someFile,
# <SOURCE_DIR>, your_file, file_name.ext. Deliberately narrow: a flag must mean "change this".
_STAND_IN = re.compile(
    r"(?<![\w/.$-])(?:/path(?:/[\w.*-]+)*|path/to(?:/[\w.*-]+)*|<[A-Za-z][\w -]{2,}>"
    r"|(?:my|some|your)[_A-Z]\w*(?:\.\w+)?"
    r"|(?:my|some|your)(?:file|dir|folder|directory)\w*(?:\.\w+)?|file_?name\.\w+)(?![\w/])"
)


def stand_ins(code: str, request: str) -> list[str]:
    """The stand-in values of `code` (see _STAND_IN) that `request` does not itself name: for the user to replace."""
    from cfgen.training.tldr import PLACEHOLDER

    outside_placeholders = PLACEHOLDER.sub(" ", code)  # a placeholder is listed once, by its own name
    return [value for value in dict.fromkeys(_STAND_IN.findall(outside_placeholders)) if value not in request]


def _pair_values(source: Values, target: Values) -> dict[str, str]:
    """Source values paired with target values: the k-th of a kind with the k-th of that kind.

    A value both requests name is left alone and out of the count, so that
    "save "response" ... prompt "Sure?"" and "prompt "OK?" ... "response"" pair
    only the prompts; unless the requests name the same values in another
    order ("move "a" to "b"" for "move "b" to "a""), where position decides.
    """
    source, target = _as_paired(source), _as_paired(target)
    shared = set() if set(source) == set(target) else {value for value in source if value in target}
    by_kind: dict[str, list[str]] = {}
    for kind, value in target:
        if (kind, value) not in shared:
            by_kind.setdefault(kind, []).append(value)
    pairs: dict[str, str] = {}
    seen: dict[str, int] = {}
    for kind, value in source:
        if (kind, value) in shared:
            continue
        position = seen[kind] = seen.get(kind, -1) + 1
        if position < len(by_kind.get(kind, ())) and value not in pairs:
            pairs[value] = by_kind[kind][position]
    return pairs


def _as_paired(values: Values) -> Values:
    """Values with a quoted one that names a path or a file (`'archive.tar.gz'`, `'/destination'`) counted as a
    path: "extract backup.tar into /srv" and "extract 'archive.tar.gz' into '/destination'" name the same things."""
    return [("path" if kind == "quoted" and _PATH_LIKE.fullmatch(value) else kind, value) for kind, value in values]


def _occurrence(value: str) -> str:
    """A regex for the value in code: whole words only when the value is a word or a number."""
    if re.fullmatch(r"[\w.]+", value):
        return r"(?<![\w.])" + re.escape(value) + r"(?!\w)"
    return re.escape(value)

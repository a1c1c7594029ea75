"""The values a Bash request names, each with the slot types it fits: read by type and role from the words.

    request_values("find files bigger than 20MB in /data older than 3 days")
      == [Value("+20M", ("size",)), Value("/data", ("path",)), Value("+3", ("timespan",), unit="days")]

What is read (every table of words for values is here; what a request asks beyond its values, in bash_asks.py):
quoted text; URLs; paths (`/srv`, `~/x`, `a/b/c`) and file names (`notes.txt`); file kinds ("txt files", "every .csv
file", "python files" → `*.txt`, `*.csv`, `*.py`); bare names after a naming word (called, named, user, branch,
container, …) or a place word (from, to, into, in, under); sizes and ages with their comparison ("bigger than 20MB"
→ `+20M`, "older than 3 days" → `+3` days, "in the last 24 hours" → `-24` hours, "50 days ago" → `50`, "not …
in the last 5 days" → `+5`); counts of lines ("the last 3 lines"); globs (`1US*`); IP addresses; owner and group
(`bob:staff`); "hidden files" (`.*`); "the X variable"; octal modes; other numbers. A
value is listed once, in the order the request says it; `fits` lists the slot types (bash_template.SLOT_TYPES) it
may fill, best first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cfgen.languages.bash_scripts import (FIELD_ORDINALS, ORDINALS, replacements, said_words, says_characters,
                                          substitution)

MAX_SCANNED = 4096  # a request is read this far: a bound on work for pathological input


@dataclass(frozen=True)
class Value:
    text: str  # as the command should hold it (signed for sizes and ages: `+20M`, `-1`)
    fits: tuple[str, ...]  # slot types it may fill, best first
    unit: str = ""  # an age's unit: minutes, hours, days (`age_for` writes it for the flag that reads it); "lines"
    # for a count of lines
    start: int = 0  # where the request says it (the order of the request decides between two that fit)


# File kinds a request names in words, and the extension each stands for.
KIND_WORDS = {"python": "py", "markdown": "md", "text": "txt", "log": "log", "shell": "sh", "javascript": "js",
              "java": "java", "c": "c", "image": "jpg", "jpeg": "jpg", "html": "html", "css": "css",
              "json": "json", "yaml": "yaml", "csv": "csv", "pdf": "pdf", "mp3": "mp3", "png": "png", "jpg": "jpg",
              "txt": "txt", "xml": "xml", "tmp": "tmp", "temporary": "tmp", "backup": "bak", "gif": "gif",
              "zip": "zip", "go": "go", "rust": "rs", "ruby": "rb", "php": "php", "sql": "sql", "md": "md"}
# Words after which a bare word is a name (and the slot types that name may fill).
NAMING_WORDS = {"called": ("path", "text", "user"), "named": ("path", "text", "user"), "name": ("path", "text"),
                "user": ("user", "text"), "owner": ("user",), "group": ("user",), "branch": ("text",),
                "container": ("text",), "service": ("text",), "package": ("text",), "image": ("text",),
                "tag": ("text",), "message": ("text",),
                "host": ("url", "text"), "port": ("number",), "word": ("regex", "text"), "for": ("regex", "text"),
                "containing": ("regex", "text"), "contain": ("regex", "text"), "contains": ("regex", "text"),
                "with": ("regex", "text"), "line": ("text", "regex"), "string": ("regex", "text")}
# Words after which a bare word is a place: a folder or file the command reads from or writes to.
PLACE_WORDS = {"from", "to", "into", "in", "under", "inside", "folder", "directory", "dir", "onto", "of",
               "at"}
# Place words whose next word is a place even when it is a common word ("from in to out"), unless it is one of
# STRONG_PLACE_EXCEPTIONS ("to the folder", "to upper case").
STRONG_PLACE_WORDS = {"from", "to", "into", "onto"}
STRONG_PLACE_EXCEPTIONS = {"the", "a", "an", "all", "every", "each", "this", "that", "my", "its", "their", "it",
                           "them", "upper", "lower", "spaces", "space", "tabs", "everyone", "file", "files",
                           "folder", "directory", "dir", "git", "one", "be", "see", "show", "make", "get", "find"}
# Words that are never a value, whatever comes before them.
NOT_VALUES = {"the", "a", "an", "all", "every", "each", "this", "that", "these", "those", "here", "it", "them",
              "file", "files", "folder", "folders", "directory", "directories", "dir", "line", "lines", "and",
              "or", "with", "without", "by", "of", "to", "from", "in", "into", "under", "for", "on", "my", "its",
              "their", "current", "same", "new", "one", "two", "three", "order", "reverse", "size", "name",
              "names", "contents", "content", "git", "repository", "repo", "case", "everyone", "hidden", "empty",
              "recursively", "numerically", "format", "long", "detail", "details", "last", "first", "top",
              "system", "machine", "is", "are", "be", "called", "named", "containing", "contain", "contains",
              "that", "which", "where", "when", "them", "changes", "commit", "permission", "permissions", "mode",
              "text", "word", "words", "up", "down", "out", "sorted", "ignoring", "using", "via", "as", "so",
              "over", "under", "than", "bigger", "smaller", "larger", "older", "newer", "more", "less", "space",
              "spaces", "tabs", "upper", "lower", "unique", "duplicate", "each", "times", "character",
              "characters", "number", "numbers", "column", "columns", "field", "fields", "value", "variable",
              "message", "branch", "branches", "tag", "tags", "process", "processes", "user", "root", "home",
              "tree", "starts", "begins", "ends", "starting", "beginning", "ending", "whose", "ago", "levels",
              "below", "above", "beneath", "within", "there", "everywhere", "anywhere", "somewhere", "now", "your",
              "our", "his", "her", "ownership", "type", "types", "extension", "extensions", "any", "anything", "some",
              "regular", "level", "depth", "address", "adress", "bytes", "kilobytes", "megabytes", "gigabytes",
              "blocks", "lines", "id"}
# Permissions said in words, and the mode each stands for (chmod's symbolic form), longest phrase first.
MODE_WORDS = [(r"\b(?:remove|take away|drop|without) (?:the )?execut\w* (?:permission|bit|right)s?\b", "-x"),
              (r"\bnot executable\b", "-x"),
              (r"\bread[- ]only\b", "a-w"), (r"\breadable by (?:everyone|all|anyone)\b", "a+r"),
              (r"\bwritable by (?:everyone|all|anyone)\b", "a+w"), (r"\bexecutable\b", "+x"),
              (r"\bprivate\b", "go-rwx")]
HERE_WORDS = re.compile(r"\b(?:here|this (?:folder|directory|dir)|the current (?:folder|directory|dir))\b", re.I)
HOME_WORDS = re.compile(r"\b(?:my home|home (?:folder|directory|dir)|in home)\b", re.I)
ROOT_WORDS = re.compile(r"\b(?:root|file ?systems?|whole (?:system|disk|machine)|entire (?:system|disk|machine)|"
                        r"(?:search|in|across|throughout) the system|"
                        r"everywhere|all over the system|on the system)\b", re.I)

_QUOTED = re.compile(r"`([^`]+)`|(?<!\w)'([^'\s][^']*)'(?!\w)|\"([^\"]+)\"|“([^”]+)”")
_URL = re.compile(r"\b(?:https?|ftp|ssh|git)://[^\s'\"`<>]+")
_PATH = re.compile(r"(?<![\w.\-/])(?:~|\.{1,2})?/[\w./*+-]*|(?<![\w.\-/])[\w.*+-]+(?:/[\w.*+-]+)+/?|"
                   r"(?<![\w.\-/])[\w.+-]*\w/(?![\w/])|"  # a folder said with its slash: `media/`
                   r"(?<![\w.\-/])(?:\*|[\w+-]+)?(?:\.[A-Za-z0-9]{1,8})+(?![\w])|"
                   r"(?<![\w.\-/*?])[\w.-]*\w[\w.-]*[*?][\w.*?-]*|"  # globs: `1US*`, `*foo*`
                   r"(?<![\w.\-/*?])[*?][\w.-]*\w[\w.*?-]*")
_AFFIX = re.compile(r"\b(?P<side>start(?:s|ing)?|begin(?:s|ning)?|end(?:s|ing)?) (?:with|in) "
                    r"(?:\"(?P<dq>[^\"]+)\"|'(?P<sq>[^']+)'|`(?P<bq>[^`]+)`|(?P<word>[\w.-]+))", re.I)
_KIND = re.compile(r"(?:(?<![\w*])(?P<dot>\.\w{1,8})|(?<!\.)\b(?P<word>[A-Za-z]{1,12}))\s+files?\b", re.I)
_SIZE = re.compile(r"(?:(?P<cmp>bigger|larger|greater|more|over|above|at least|smaller|less|under|below|at most)"
                   r"(?:\s+than)?\s+)?(?P<n>\d+(?:\.\d+)?)\s?(?P<unit>[kKmMgGtT](?:i?[bB])?|bytes?)(?![\w])")
_COUNTS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
           "nine": 9, "ten": 10, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30}
NUMBER_WORDS = "|".join(word for word in _COUNTS if len(word) > 2)
_AGE_UNITS = r"(?P<unit>min(?:ute)?s?|hours?|hrs?|days?|weeks?|months?|years?)\b"
_AGE = re.compile(r"(?:(?P<older>older than|more than|over|at least)|(?P<newer>newer than|less than|within|"
                  r"in (?:the )?(?:last|past)|during (?:the )?(?:last|past)|under))\s+"
                  rf"(?P<n>\d+|an?|{NUMBER_WORDS})\s*{_AGE_UNITS}(?P<ago>\s+ago)?", re.I)
# An age said without a comparison: "modified 50 days ago", "exactly one day back" (find's unsigned `-mtime 50`).
_EXACT_AGE = re.compile(rf"\b(?:exactly\s+)?(?P<n>\d+|an?|{NUMBER_WORDS})\s*{_AGE_UNITS}\s+(?:ago|back)\b", re.I)
_LINE_COUNT = re.compile(rf"\b(?:first|last|top|bottom|final)\s+(?:(?P<n>\d+|{NUMBER_WORDS})\s+)?lines?\b|"
                         r"(?<![\w.+-])(?P<m>\d+)\s+lines?\b", re.I)
# Words that turn an age around: "not modified in the last 5 days" is older than 5 days.
_NEGATION = re.compile(r"\b(?:not|never|\w+n't)\b(?:\s+[\w-]+){0,3}\s*$", re.I)
_LAST_UNIT = re.compile(r"\b(?:in the|within the|during the) (?:last|past) (?P<unit>minute|hour|day|week|month|year)\b",
                        re.I)
_OWNER_GROUP = re.compile(r"\bowner\s+(?:to\s+)?(?P<q1>[\"'`]?)(?P<user>[\w$.-]+)(?P=q1)\s+and\s+(?:the\s+)?group\s+"
                          r"(?:to\s+)?(?P<q2>[\"'`]?)(?P<group>[\w$.-]+)(?P=q2)", re.I)
_HIDDEN = re.compile(r"\bhidden\s+(?:files?|folders?|director(?:y|ies)|dirs?)\b", re.I)
_EXCLUDING = re.compile(r"\b(?:exclud\w*|ignor\w*|except|without|skip\w*|not|no|but)\s+(?:the\s+|any\s+)?$", re.I)
_VARIABLE = re.compile(r"\b([A-Z_][A-Z0-9_]*[A-Z0-9])\s+(?:environment\s+)?variable\b")
_IP_ADDRESS = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?(?![\w.]|\.\w)")
# A user said where ownership goes: "change the owner of x to bob".
_OWNERSHIP = re.compile(r"\b(?:owner\w*|group|chown|chgrp)\b", re.I)
_MODE = re.compile(r"(?<![\w.])(?:[0-7]{3,4}|[ugoa]*[+-][rwx]+)(?!\w|\.\w)")  # "to 755." ends a sentence
_NUMBER = re.compile(r"(?<![\w.+-])\d+(?:\.\d+)?(?!\w|\.\w)")
_WORD = re.compile(r"[\w][\w.@:+-]*")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks", "y": "years"}
_PER_DAY = {"minutes": 1 / 1440, "hours": 1 / 24, "days": 1, "weeks": 7, "months": 30, "years": 365}


def request_values(request: str) -> list[Value]:
    """Every value the request names, in the order it says them (see the module's contract)."""
    text = request[:MAX_SCANNED]
    found: list[Value] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, value: Value) -> None:
        if not any(start < e and s < end for s, e in taken):
            taken.append((start, end))
            found.append(value)

    for match in replacements(text):  # "replace apple with pear": sed's `s/apple/pear/g`
        old, new = said_words(match)
        if old.lower() not in NOT_VALUES and new.lower() not in {"the", "a", "an"}:
            add(match.start(), match.end(), Value(substitution(old, new), ("substitution",), start=match.start()))
    for match in FIELD_ORDINALS.finditer(text):  # "the second column": field 2
        add(match.start(), match.end("ordinal"), Value(str(ORDINALS[match.group("ordinal").lower()]),
                                                       ("field", "number"), start=match.start()))
    for match in _AFFIX.finditer(text):  # "whose name starts with MyFile": the pattern MyFile*
        affix = match.group("dq") or match.group("sq") or match.group("bq") or match.group("word")
        if affix.lower() not in NOT_VALUES:
            glob = affix + "*" if match.group("side").lower().startswith(("start", "begin")) else "*" + affix
            add(match.start("side"), match.end(), Value(glob, ("pattern", "regex", "text"), start=match.start()))
    for match in _OWNER_GROUP.finditer(text):  # "owner bob and group staff": chown's `bob:staff`
        add(match.start(), match.end(), Value(f"{match.group('user')}:{match.group('group')}", ("user",),
                                              start=match.start()))
    for match in _HIDDEN.finditer(text):  # "hidden files": names that start with a dot
        if not _EXCLUDING.search(text[:match.start()]):
            add(match.start(), match.end(), Value(".*", ("pattern",), start=match.start()))
    for match in _QUOTED.finditer(text):
        quoted = next(group for group in match.groups() if group is not None)
        fits = _quoted_fits(quoted, text[:match.start()], text[match.end():])
        add(match.start(), match.end(), Value(quoted, fits, start=match.start()))
    for match in _URL.finditer(text):
        add(match.start(), match.end(), Value(match.group(), ("url", "text"), start=match.start()))
    for match in _AGE.finditer(text):
        add(match.start(), match.end(), _age(match, bool(_NEGATION.search(text[:match.start()]))))
    for match in _EXACT_AGE.finditer(text):
        add(match.start(), match.end(), _age(match))
    for match in _LAST_UNIT.finditer(text):
        add(match.start(), match.end(), Value("-1", ("timespan",), match.group("unit").lower() + "s", match.start()))
    for match in _SIZE.finditer(text):
        add(match.start(), match.end(), _size(match))
    for match in _KIND.finditer(text):
        ext = (match.group("dot") or "")[1:] or KIND_WORDS.get(match.group("word").lower())
        if ext:
            add(match.start(), match.end(), Value(f"*.{ext}", ("pattern", "path"), start=match.start()))
    for match in _VARIABLE.finditer(text):  # "the DISPLAY variable": its name
        add(match.start(1), match.end(1), Value(match.group(1), ("text", "regex"), start=match.start(1)))
    for match in _IP_ADDRESS.finditer(text):
        add(match.start(), match.end(), Value(match.group(), ("url", "text", "path"), start=match.start()))
    for match in _PATH.finditer(text):
        path = match.group() if re.fullmatch(r"\.+|.*/\.\.", match.group()) else match.group().rstrip(".")
        # not "files/directories", nor a format ("a tar.gz archive")
        if path and not re.fullmatch(r"[\d.]+|tar\.\w+", path, re.I) and not _words_only(path):
            add(match.start(), match.start() + len(path), Value(path, _path_fits(path), start=match.start()))
    for words, mode in MODE_WORDS:
        for match in re.finditer(words, text, re.I):
            add(match.start(), match.end(), Value(mode, ("permission",), start=match.start()))
    if re.search(r"\b(?:permissions?|mode|chmod)\b", text, re.I):
        for match in _MODE.finditer(text):
            add(match.start(), match.end(), Value(match.group(), ("permission",), start=match.start()))
    for match in _LINE_COUNT.finditer(text):  # "the last 3 lines", "the first line": how many lines
        count = match.group("n") or match.group("m") or "1"
        add(match.start(), match.end(), Value(str(_COUNTS.get(count.lower(), count)), ("number",), "lines",
                                              match.start()))
    for match in _NUMBER.finditer(text):
        add(match.start(), match.end(), Value(match.group(), ("number",), start=match.start()))
    for start, end, word, fits in _named_words(text):
        add(start, end, Value(word, fits, start=start))
    return sorted(found, key=lambda value: value.start)


def with_places_as_words(request: str) -> str:
    """The request with its names said as the words examples use: a file it names is `file` with its extension
    (`app.log` is `file.log`: the extension says what the file holds), a folder `folder` (`/srv/www`, `src/lib`),
    and what a substitution replaces `foo` and `bar` ("replace TODO with DONE"; characters said in words stay:
    "replace tabs with spaces" has tools of its own). What a request asks is then matched without the names'
    own words pulling it toward other requests that say them ("the first 2 lines of app.log" is no request about
    app logs); globs, `.`, `..` and `~` stay, since they say how much is meant."""
    text = request[:MAX_SCANNED]
    spans: list[tuple[int, int, str]] = []
    for match in replacements(text):
        if not says_characters(match):  # "tabs with spaces": `expand`
            spans += [(match.start("old"), match.end("old"), "foo"), (match.start("new"), match.end("new"), "bar")]
    for match in _PATH.finditer(text):
        path = match.group().rstrip(".")
        if not path or re.fullmatch(r"[\d.]+", path) or _words_only(path) or path.startswith(("*", ".", "~")):
            continue
        extension = re.search(r"(?:\.[A-Za-z0-9]{1,8})+$", path)
        span = (match.start(), match.start() + len(path))
        if not any(s < span[1] and span[0] < e for s, e, _ in spans):
            spans.append((*span, "file" + extension.group() if extension else "folder"))
    parts, last = [], 0
    for start, end, word in sorted(spans):
        parts.append(request[last:start] + word)
        last = end
    return "".join(parts) + request[last:]


def _words_only(path: str) -> bool:
    """Whether a slashed phrase is words, not a path: "files/directories", "and/or"."""
    if re.fullmatch(r"[\w.-]+/", path):  # one word with its slash is a folder: `dir/`
        return False
    return "/" in path and not path.startswith(("/", "~", ".")) and all(
        part.lower() in NOT_VALUES | {"and", "or", "folders", "dirs"} for part in path.strip("/").split("/"))


_FOLDER_AFTER = re.compile(r"\s*(?:director(?:y|ies)|folders?|dirs?)\b", re.I)
_PLACE_BEFORE = re.compile(r"\b(?:director(?:y|ies)|folders?|dirs?|in|under|inside|into|to|from)\s*$", re.I)


def _quoted_fits(quoted: str, before: str, after: str) -> tuple[str, ...]:
    """The slot types a quoted text fits: a glob is a pattern, a path or file name a path, a word a text unless
    the request says it as a place ("the 'images' directory", "in 'build'")."""
    if "*" in quoted or "?" in quoted:
        return ("pattern", "regex", "text", "path")
    if re.search(r"\bto\s*$", before) and _OWNERSHIP.search(before) and "/" not in quoted:
        return ("user", "text", "path", "pattern", "regex")
    if "/" in quoted or re.search(r"\.[A-Za-z0-9]{1,8}$", quoted) or _FOLDER_AFTER.match(after) or \
            _PLACE_BEFORE.search(before):
        return ("path", "text", "pattern", "regex", "user")
    return ("text", "regex", "pattern", "path", "user")


def _path_fits(path: str) -> tuple[str, ...]:
    if "*" in path:
        return ("pattern", "path")
    return ("path", "pattern", "text")


_TARGET_CUE = re.compile(r"\b(?:into|to|onto|in to)\s+(?:the\s+)?(?:(?:folder|directory|dir|file)\s+)?$", re.I)


def is_target(value: Value, request: str) -> bool:
    """Whether the request names the value as where the result goes ("extract b.tar into /srv", "copy a to b"):
    a command that leaves a target out does another job."""
    return "path" in value.fits[:1] and bool(_TARGET_CUE.search(request[:value.start]))


def _age(match: re.Match, negated: bool = False) -> Value:
    """An age as find's sign and number: `+3` older, `-3` newer (the other way round where `negated`: "not
    modified in the last 3 days"), unsigned where said without a comparison ("3 days ago")."""
    amount = match.group("n").lower()
    number = _COUNTS.get(amount) or int(amount)
    unit = match.group("unit").lower()
    unit = next(full for short, full in _UNITS.items() if unit.startswith(short)) if not unit.startswith("mo") \
        else "months"
    compared = "older" in match.groupdict()
    older = compared and bool(match.group("older")) != negated
    sign = ("+" if older else "-") if compared else ""
    return Value(f"{sign}{number}", ("timespan",), unit, match.start())


def _size(match: re.Match) -> Value:
    unit = match.group("unit")
    suffix = "c" if unit.lower().startswith("byte") else unit[0].upper() if unit[0].lower() != "k" else "k"
    comparison = (match.group("cmp") or "").lower()
    sign = "+" if comparison in ("bigger", "larger", "greater", "more", "over", "above", "at least") else \
        "-" if comparison else ""
    number = match.group("n")
    return Value(f"{sign}{number}{suffix}", ("size", "number"), start=match.start())


def _named_words(text: str):
    """(start, end, word, fits) for each bare word that follows a naming or a place word."""
    words = list(_WORD.finditer(text))
    for previous, match in zip(words, words[1:]):
        cue, word = previous.group().lower().rstrip("."), match.group().rstrip(".")  # a sentence's full stop
        if text[previous.end():match.start()].strip() or not word or re.fullmatch(r"[\d.]+", word) and cue != "port":
            continue
        if cue == "message":  # a commit's message: the rest of the request
            yield match.start(), len(text), text[match.start():].strip(), NAMING_WORDS[cue]
            return
        if cue == "to" and _OWNERSHIP.search(text[:previous.start()]) and word.lower() not in NOT_VALUES:
            yield match.start(), match.start() + len(word), word, ("user", "path", "text")
        elif cue in STRONG_PLACE_WORDS:
            if _strong_place(word, text[match.start() + len(word):]):
                yield match.start(), match.start() + len(word), word, ("path", "text")
        elif word.lower() in NOT_VALUES:
            continue
        elif cue in NAMING_WORDS:
            yield match.start(), match.start() + len(word), word, NAMING_WORDS[cue]
        elif cue in PLACE_WORDS and re.fullmatch(r"[A-Z]{2,}", word):  # "each match of ERROR": a marker
            yield match.start(), match.start() + len(word), word, ("text", "regex", "path")
        elif cue in PLACE_WORDS or cue == "file" and not re.fullmatch(r"[a-z]+", word):  # "file ADDRESS_FILE"
            yield match.start(), match.start() + len(word), word, ("path", "text")


def _strong_place(word: str, rest: str) -> bool:
    """Whether a word after from/to/into is a place: any word ("from in to out") but a naming word ("to group
    staff"), one that is never a value (`in` and `out` are places here), or a verb ("to prevent the shell")."""
    lowered = word.lower()
    if lowered in STRONG_PLACE_EXCEPTIONS or lowered in NAMING_WORDS or lowered in NOT_VALUES - {"in", "out"} or \
            lowered in KIND_WORDS:  # "convert to html" names a format
        return False
    return not re.match(r"\s+(?:the|a|an|all|any|anything|every|everything|it|its|them|their|that|this|these|those)\b",
                        rest, re.I)


def age_for(value: Value, flag: str) -> str:
    """An age written for the flag that reads it: `-mtime` counts days, `-mmin` minutes (`-24` hours is `-1` for
    -mtime, `-1440` for -mmin); a part of a day rounds up to one."""
    sign = value.text[0] if value.text[0] in "+-" else ""
    amount = float(value.text.lstrip("+-"))
    days = amount * _PER_DAY.get(value.unit, 1)
    if flag in ("-mmin", "-amin", "-cmin"):
        return f"{sign}{round(days * 1440)}"
    return f"{sign}{max(1, round(days))}"


def age_flag(value: Value, flag: str) -> str:
    """The flag an age is written for: -mtime (days) becomes -mmin where the age is no whole number of days
    ("in the last 1 hour" is `-mmin -60`, not a day), likewise -atime and -ctime."""
    minutes = {"-mtime": "-mmin", "-atime": "-amin", "-ctime": "-cmin"}
    if flag not in minutes or not value.unit:
        return flag
    days = float(value.text.lstrip("+-")) * _PER_DAY.get(value.unit, 1)
    return flag if days == int(days) else minutes[flag]


def says_here(request: str) -> bool:
    return bool(HERE_WORDS.search(request))


def says_home(request: str) -> bool:
    return bool(HOME_WORDS.search(request))


def says_root(request: str) -> bool:
    return bool(ROOT_WORDS.search(request))

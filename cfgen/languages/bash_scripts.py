"""Request words that go inside a command's own program: sed substitutions and awk fields.

Reading: "replace X with Y" (`replacements`: what it replaces and with what, characters said in words as the
characters) and "the second column" (`FIELD_ORDINALS`). Writing: a sed script the command holds
(`'s/foo/bar/g'`) takes the request's two words, an awk program that reads one field (`{print $5}`) takes the
field the request counts (`parts_inside`, then `rescripted`); each word is written by
`bash_quoting.substitute` where the program reads it as itself, else it is a visible placeholder, never the
program's own word.
"""

from __future__ import annotations

import re
from typing import Iterator

# "the second column", "the third field": which field a command reads.
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
            "ninth": 9, "tenth": 10}
FIELD_ORDINALS = re.compile(rf"\b(?P<ordinal>{'|'.join(ORDINALS)})\s+(?:column|field|word)s?\b", re.I)
_REPLACED_WORD = r"\"[^\"]+\"|'[^']+'|`[^`]+`|[^\s,;]+"
_REPLACE = re.compile(rf"\b(?:replace|substitute)\s+(?:(?:all|every|each)\s+)?(?:(?:the\s+)?(?:occurrences?|instances?)"
                      rf"\s+of\s+)?(?:the\s+(?:word|text|string)\s+)?(?P<old>{_REPLACED_WORD})\s+(?:with|by)\s+"
                      rf"(?:the\s+(?:word|text|string)\s+)?(?P<new>{_REPLACED_WORD})", re.I)
# Characters said in words, and the characters.
CHARACTER_WORDS = {"spaces": " ", "space": " ", "tabs": "\\t", "tab": "\\t", "underscores": "_", "underscore": "_",
                   "dashes": "-", "dash": "-", "hyphens": "-", "hyphen": "-", "commas": ",", "comma": ",",
                   "dots": ".", "periods": ".", "colons": ":", "semicolons": ";", "newlines": "\\n"}
_DELIMITERS = "/|#@:,"
# sed's substitution (`'s/foo/bar/g'`, any delimiter, quoted or not).
SED_SCRIPT = re.compile(r"(?P<quote>['\"]?)s(?P<delimiter>[/|#@:,])(?P<old>(?:(?!(?P=delimiter)).)*)(?P=delimiter)"
                        r"(?P<new>(?:(?!(?P=delimiter)).)*)(?P=delimiter)(?P<flags>[gipI0-9]*)(?P=quote)")
_AWKS = {"awk", "gawk", "mawk", "nawk"}
_FIELD = re.compile(r"\$(\d+)\b")  # an awk program's field reference

Part = tuple[int, int, str, str]  # (start, end) in the held program, the request's word, its placeholder's name


def replacements(text: str) -> Iterator[re.Match]:
    """Each "replace X with Y" of the text: groups `old` and `new` (as said, quotes included)."""
    return _REPLACE.finditer(text)


def said_words(match: re.Match) -> tuple[str, str]:
    """What a replacement replaces and with what, unquoted, characters said in words as the characters."""
    old, new = (_unquoted(match.group(side)) for side in ("old", "new"))
    return CHARACTER_WORDS.get(old.lower(), old), CHARACTER_WORDS.get(new.lower(), new)


def says_characters(match: re.Match) -> bool:
    """Whether a replacement is of characters said in words ("tabs with spaces"): tools of their own do that."""
    return bool({match.group("old").lower(), match.group("new").lower()} & set(CHARACTER_WORDS))


def substitution(old: str, new: str, delimiter: str = "/", flags: str = "g") -> str:
    """sed's `s` command replacing `old` by `new`, with the first delimiter of `delimiter` + _DELIMITERS that
    neither holds."""
    free = next((d for d in delimiter + _DELIMITERS if d not in old + new), "/")
    return f"s{free}{old}{free}{new}{free}{flags}"


def parts_inside(value: str, utility: str, said_substitution: str | None, said_field: str | None
                 ) -> tuple[str, list[Part]] | None:
    """("substitution" or "field", the parts that take the request's words) where a program the command holds
    (`value`, run by `utility`) takes them: a sed script what the request's substitution replaces and with
    what; an awk program that reads one field the field the request counts. None where it takes none."""
    script = SED_SCRIPT.fullmatch(value)
    if script is not None:
        if not script.group("old") or said_substitution is None:
            return None
        words = dict(zip(("old", "new"), SED_SCRIPT.fullmatch(said_substitution).group("old", "new")))
        return "substitution", [(script.start(part), script.end(part), words[part], part) for part in ("old", "new")
                                if script.group(part)]
    fields = list(_FIELD.finditer(value)) if utility in _AWKS else []
    if len({field.group(1) for field in fields}) != 1 or fields[0].group(1) == "0":
        return None
    if said_field is None or not said_field.isdigit():
        return None
    return "field", [(field.start(1), field.end(1), said_field, "field") for field in fields]


def rescripted(code: str, scripts: list[tuple[str, list[Part]]]) -> tuple[str, int]:
    """`code` with each held program given the request's words at its parts (`parts_inside`), each written by
    `bash_quoting.substitute` in its place (words the program's language reads as themselves only; an awk field's
    digits, which the quoting layer keeps as they are after a `$`, are digits for digits); a word that cannot be
    written safely there leaves a visible placeholder. Returns the code and how many placeholders it opened."""
    from cfgen.languages.bash_quoting import Edit, substitute

    position, opened = 0, 0
    for held, parts in scripts:
        start = code.find(held, position)
        if start < 0:
            continue
        for begin, end, word, name in sorted(parts, reverse=True):  # the later part first: offsets hold
            edit = Edit(start + begin, start + end, word, expand_globs=False)
            if name == "field":  # digits for the digits of an awk field (`$5`): no shell or awk reads them otherwise
                code = code[:edit.start] + word + code[edit.end:]
                continue
            written, refused = substitute(code, [edit])
            code = written if not refused else code[:edit.start] + "{{%s}}" % name + code[edit.end:]
            opened += bool(refused)
        position = start
    return code, opened


def _unquoted(word: str) -> str:
    return word[1:-1] if len(word) > 1 and word[0] == word[-1] and word[0] in "\"'`" else word

"""A Bash program's template: one token per utility, flag, operator and argument, where an argument is a typed
slot (`{{path}}`, `{{number}}`, …) unless it is a closed-class word that recurs in training (`f` of `-type f`,
`{}` and `\\;` of `-exec`, `.`); the slots' values, in order, beside it.

    template("find . -mtime +3 -name '*.log'")
      == Template(["find", ".", "-mtime", "{{timespan}}", "-name", "{{pattern}}"], ["+3", "'*.log'"])

`fill(template)` writes the program back: the same parse (node types) and the same words as the original, with
canonical spacing. A template is what a network can learn on two cores (about 8 tokens, CF's length), and what
NL2Bash's template-match metric scores; values come from the request (slots.py) or the nearest training program.

Contracts: `template` returns None for a program it cannot carry exactly (a parse error, a heredoc, a comment),
with the reason from `why_not`; a slot's value is the argument's text as written (quotes included), so a
template filled with its own values is the program again. tldr-pages' `{{placeholders}}` are slots whose value is
the placeholder itself.
"""

from __future__ import annotations

import functools
import re
from typing import Iterator, NamedTuple

from cfgen.languages.bash_syntax import _text, _tree

SLOT_TYPES = ("path", "pattern", "regex", "number", "size", "timespan", "permission", "user", "url", "text")
SLOT = re.compile(r"\{\{(%s)\}\}" % "|".join(SLOT_TYPES))
# Nodes that are one argument, never looked into: their text is one value (or one closed-class literal).
_UNITS = {"word", "string", "raw_string", "concatenation", "number", "simple_expansion", "expansion",
          "ansi_c_string", "arithmetic_expansion", "translated_string", "regex", "extglob_pattern"}
_REFUSED = {"heredoc_redirect": "a heredoc", "heredoc_body": "a heredoc", "comment": "a comment"}
# Arguments kept as literal tokens whatever the training counts say: structure, not values.
ALWAYS_LITERAL = frozenset({".", "..", "/", "~", "{}", "\\;", "';'", "+", "-", "--", "-", "0", "1", "2"})
_FLAG = re.compile(r"--?[A-Za-z0-9][\w-]*|-")
_NO_SPACE_AFTER = ("$(", "<(", ">(", "$((", "((", "${")
_NO_SPACE_BEFORE = (")", "))")
_ASSIGNMENT = re.compile(r"[A-Za-z_]\w*(?:\[[^\]]*\])?\+?=")

_SIGNED = {"number", "timespan", "size"}
_SIGNED_VALUE_FLAGS = {"-mtime", "-atime", "-ctime", "-mmin", "-amin", "-cmin", "-size", "-n", "-c", "-links", "-uid"}
_SIGNED_AMOUNT = re.compile(r"[+-]\d+(?:\.\d+)?[kKMGTPcbw]?")
_TIME_FLAGS = {"-mtime", "-atime", "-ctime", "-mmin", "-amin", "-cmin", "-newermt"}
_SIZE = re.compile(r"[+-]?\d+(?:\.\d+)?[kKMGTPcbw](?:i?B)?")
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_PERMISSION = re.compile(r"[0-7]{3,4}|[ugoa]*[+=-][rwxXst]+(?:,[ugoa]*[+=-][rwxXst]+)*")
_REGEX_READERS = {"grep", "egrep", "fgrep", "sed", "awk", "gawk", "rg", "ag", "perl", "rename", "expr"}
_USER_FLAGS = {"-user", "-u", "--user", "-group", "-g", "--owner", "--group"}
_PATH_LIKE = re.compile(r"(?:~|\.{1,2})?/\S*|[\w.-]*\.[A-Za-z][A-Za-z0-9]{0,4}|\S+/\S*|\$\w+|\$\{\w+\}|~")


class Template(NamedTuple):
    tokens: list[str]  # utilities, flags, operators, literals and `{{type}}` slots (`+{{timespan}}`: signed)
    values: list[str]  # one per slot, in order, as written in the program

    @property
    def text(self) -> str:
        """The template as a network writes it: each token after a space (a tokenizer keeps ` -type` whole)."""
        return "".join(" " + token for token in self.tokens)


def respaced(text: str) -> str:
    """A template's text (as sampled) written as a program with its slots still `{{type}}` placeholders."""
    return fill(text.split(), [])


def why_not(program: str) -> str | None:
    """Why `program` has no exact template (None if it has one)."""
    root = _tree(program).root_node
    if root.has_error:
        return "it does not parse"
    for node in _descendants(root):
        if node.type in _REFUSED:
            return _REFUSED[node.type]
    return None


def template(program: str, literals: frozenset[str] = frozenset()) -> Template | None:
    """`program` as a template; arguments in `literals` (or ALWAYS_LITERAL) stay literal tokens. None: see why_not."""
    found = _template_parts(program, literals)
    return Template(list(found[0]), list(found[1])) if found is not None else None


@functools.lru_cache(maxsize=4096)  # ranking asks again for each candidate's template; each caller gets its own lists
def _template_parts(program: str, literals: frozenset[str]) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    if why_not(program) is not None:
        return None
    tokens: list[str] = []
    values: list[str] = []
    for token, value in _tokens(_tree(program).root_node, literals | ALWAYS_LITERAL):
        tokens.append(token)
        if value is not None:
            values.append(value)
    return (tuple(tokens), tuple(values)) if tokens else None


def fill(tokens: list[str], values: list[str]) -> str:
    """The program a template stands for, its slots filled in order with `values` (a slot without a value stays
    as written). Values are put in as they are: they are the program's own words, or quoted by the caller."""
    remaining = iter(values)
    out, glued = "", False
    for token in tokens:
        written = SLOT.sub(lambda match: next(remaining, match.group(0)), token, count=1)
        if out and not glued and not out.endswith(_NO_SPACE_AFTER) and token not in _NO_SPACE_BEFORE:
            out += " "
        out += written
        glued = bool(_ASSIGNMENT.fullmatch(token))  # `x=` and its value are one word
    return out


def round_trips(program: str, literals: frozenset[str] = frozenset()) -> bool:
    """The template filled with its own values parses as `program` does, to the same words."""
    made = template(program, literals)
    if made is None:
        return False
    rebuilt = fill(*made)
    return template(rebuilt, literals) == made and _shape(rebuilt) == _shape(program)


def _shape(program: str) -> list[str]:
    return [node.type for node in _descendants(_tree(program).root_node)]


def _descendants(node) -> Iterator:
    yield node
    for child in node.children:
        yield from _descendants(child)


def _tokens(node, literals: frozenset[str], utility: str = "", previous: list | None = None) \
        -> Iterator[tuple[str, str | None]]:
    """(token, the slot's value or None) for each piece of the tree under `node`, in order."""
    previous = previous if previous is not None else ["", 0]  # the last token; operands of the command so far
    children = node.children
    index = 0
    while index < len(children):
        child = children[index]
        if child.type == "command":
            yield from _command_tokens(child, literals, previous)
        elif child.type == "file_descriptor" and index + 1 < len(children):
            # `2>&1`: the descriptor belongs to its operator (`2 >&1` would be an argument)
            yield _text(child) + _text(children[index + 1]), None
            index += 1
        elif child.type == "variable_assignment":
            value = child.child_by_field_name("value")
            head = _text(child)[: value.start_byte - child.start_byte] if value is not None else _text(child)
            yield head, None  # `x=`, `x+=`, `a[1]=`
            if value is not None:
                yield from _argument(value, literals, utility, previous)
        elif child.type in _UNITS:
            yield from _argument(child, literals, utility, previous)
        elif child.child_count == 0:
            previous[0] = _text(child)
            yield _text(child), None
        else:
            yield from _tokens(child, literals, utility, previous)
        index += 1


def _command_tokens(command, literals: frozenset[str], previous: list) -> Iterator[tuple[str, str | None]]:
    name = command.child_by_field_name("name")
    utility = _text(name) if name is not None else ""
    previous[1] = 0  # operands of this command so far
    for child in command.children:
        if child.type == "command_name":
            word = _text(child)
            if re.fullmatch(r"[\w.+\[-]+", word) and not re.fullmatch(r"\d+", word):
                previous[0] = word
                yield word, None
            else:  # `./script.sh`, `"$cmd"`, `{{command}}`: what runs is a value
                yield from _argument(child, literals, utility, previous)
        else:
            yield from _tokens(_Wrapper(child), literals, utility, previous)


class _Wrapper:
    """A node seen as the only child of a parent, so that _tokens handles it as it does at any other depth."""

    def __init__(self, node) -> None:
        self.children = [node]


def _argument(node, literals: frozenset[str], utility: str, previous: list) -> Iterator[tuple[str, str | None]]:
    text = _text(node)
    if node.type in ("command_substitution", "process_substitution"):
        yield from _tokens(node, literals, utility, previous)
        return
    flag, _, rest = text.partition("=")
    signed_value = previous[0] in _SIGNED_VALUE_FLAGS and bool(_SIGNED_AMOUNT.fullmatch(text))  # `-size -100k`
    if text in literals or (_FLAG.fullmatch(text) and not signed_value):
        previous[0] = text
        yield text, None
    elif rest and _FLAG.fullmatch(flag) and flag.startswith("--"):
        previous[0] = flag
        yield f"{flag}={{{{{slot_type(rest, utility, flag)}}}}}", rest
    else:
        operand = not _takes_value(previous[0])
        kind = slot_type(text, utility, previous[0], first_operand=operand and previous[1] == 0)
        # `grep -e foo a.txt`, `sed -e 's/a/b/' a.txt`: the flag gave the pattern, so the first operand is a file
        given_pattern = utility in _REGEX_READERS and previous[0] in ("-e", "--regexp", "--expression")
        previous[0] = text
        previous[1] += operand or given_pattern
        sign = text[0] if text[:1] in "+-" and kind in _SIGNED else ""  # `-mtime +3`: the sign is structure
        yield sign + "{{" + kind + "}}", text[len(sign):]


def _takes_value(flag: str) -> bool:
    """Whether an option usually takes the next word as its value (`-F :`, `-n 5`): that word is no operand."""
    return flag in _VALUE_FLAGS


_VALUE_FLAGS = {"-F", "-f", "-n", "-m", "-A", "-B", "-C", "-d", "-t", "-k", "-e", "--regexp", "--expression"}


def slot_type(value: str, utility: str = "", previous: str = "", first_operand: bool = False) -> str:
    """The kind of value an argument is, from its text and where it stands (the flag before it, the utility,
    whether it is the command's first operand: grep's and sed's is their pattern)."""
    if value.startswith("{{") and value.endswith("}}"):
        from cfgen.training.tldr import placeholder_kind

        kind = placeholder_kind(value[2:-2])
        return {"port": "number"}.get(kind, kind)
    bare = value.strip("'\"")
    if "://" in bare:
        return "url"
    if previous in _TIME_FLAGS and (_NUMBER.fullmatch(bare) or previous == "-newermt"):
        return "timespan"
    if _SIZE.fullmatch(bare) or (previous == "-size" and _NUMBER.fullmatch(bare)):
        return "size"
    if (utility == "chmod" or previous == "-perm") and _PERMISSION.fullmatch(bare.lstrip("/-+")):
        return "permission"
    if previous in _USER_FLAGS or (utility in ("chown", "chgrp") and previous == utility) or (
            utility == "chown" and re.fullmatch(r"[\w.-]+:[\w.-]*", bare)):
        return "user"
    if _NUMBER.fullmatch(bare):
        return "number"
    if (utility in _REGEX_READERS and (first_operand or previous in ("-e", "--regexp", "--expression"))) \
            or previous in ("-regex", "-iregex"):
        return "regex"
    if "*" in bare or "?" in bare:
        return "pattern"
    if _PATH_LIKE.fullmatch(bare):
        return "path"
    return "text"


def closed_class(programs: list[str], min_count: int = 10) -> frozenset[str]:
    """The arguments kept as literal tokens: plain words (subcommands, a wrapper's utility, `f` of `-type f`) and
    variables that recur at least `min_count` times in `programs`; paths, patterns, numbers and quoted text stay
    values whatever their count."""
    counts: dict[str, int] = {}
    for program in programs:
        made = template(program)
        for value in made.values if made is not None else ():
            counts[value] = counts.get(value, 0) + 1
    return frozenset(value for value, count in counts.items() if count >= min_count and _closed_class(value))


def _closed_class(value: str) -> bool:
    if re.fullmatch(r"\$\{?\w+\}?", value):
        return True
    return bool(re.fullmatch(r"[A-Za-z][\w+-]*", value)) and slot_type(value) == "text"

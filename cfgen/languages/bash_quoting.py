"""Writing a request's values into a bash command so that the shell reads each as that value and nothing else.

The context of a value comes from tree-sitter-bash's parse, not from counting
quotes: in `"$(find DIR -name '*.jpg')"` DIR sits in a new, unquoted shell
context although a double quote is open around it. Supported contexts, at any
depth of `$(…)`, backticks and `<(…)`: a plain word, `'…'`, `"…"`, and a
variable's name (`$x`, `x=`), where only another name fits. Nothing is
substituted inside `$'…'`, `${…}`, arithmetic, here-documents, or the program
text of an embedded language (awk, sed, jq, perl -e, python -c, sh -c, eval,
ssh's remote command, find -exec sh -c …): a value there would be code of that
language, so the slot keeps what it held (a `{{placeholder}}` stays visible,
a training value stays the training value).

`substitute` then proves what it wrote: the filled command is parsed again,
every value must lie inside one literal word (or name, or plain words where the
program spelled its value out as several), and the command's
structure (every node but the literal words) must equal the structure of the
command with each slot holding a plain word. A value that fails is left out;
the others stay in.
"""

from __future__ import annotations

import re
from typing import Iterator, NamedTuple

from cfgen.languages.bash_programs import INERT_VALUES, inert_in, program_argument
from cfgen.languages.bash_syntax import BEYOND_BMP, MAX_DEPTH, _text, _tree


class Edit(NamedTuple):
    """code[start:end] is to become `value` (the text meant, not yet quoted)."""

    start: int
    end: int
    value: str
    # a glob in a plain word stays bare (the shell expands it), else quoted (the command does)
    expand_globs: bool = True

LITERAL = {"word", "raw_string", "string", "string_content", "concatenation", "number", '"'}
NEW_CONTEXT = {"command_substitution", "process_substitution"}
NOT_SUBSTITUTED = {"ansi_c_string", "translated_string", "expansion", "arithmetic_expansion", "heredoc_body",
                   "heredoc_redirect", "herestring_redirect", "regex", "extglob_pattern", "test_operator"}
# Characters the shell reads as themselves in a plain word; a glob (* ?) too where the caller wants it to expand.
_PLAIN = re.compile(r"~?[\w@%+=:,./-]+")  # a leading ~ expands to a home folder, as the user meant
_PLAIN_OR_GLOB = re.compile(r"~?[\w@%+=:,./*?-]+")
_NAME = re.compile(r"[A-Za-z_]\w*")


def substitute(code: str, edits: list[Edit]) -> tuple[str, list[Edit]]:
    """`code` with each edit's value written for its context, and the edits that could not be made safely.

    Edits must not overlap. The result always passes `_proved`: it parses to the structure of the command
    with every made edit a plain word, each value inside one literal word.
    """
    shape = _placeholders_as_words(code, edits)
    root = _tree(shape).root_node
    written: list[tuple[Edit, tuple[int, int, str]]] = []
    refused: list[Edit] = []
    for edit in sorted(edits):
        text = _written(shape, root, edit)
        (refused.append(edit) if text is None else written.append((edit, (edit.start, edit.end, text))))
    kept = [text for _, text in written]
    if kept and not _proved(code, kept):
        kept = []  # one value at a time, in order: keep those that leave the command as it was
        for edit, text in written:
            (kept.append(text) if _proved(code, kept + [text]) else refused.append(edit))
    return _applied(code, kept)[0], refused


def _placeholders_as_words(code: str, edits: list[Edit]) -> str:
    """`code` with each edited `{{placeholder}}` read as the one word it stands for (`{{a|b}}` is no pipeline), its
    length kept so that offsets hold: where a value goes is judged on this; the proof still reads the real code."""
    for start, end, *_ in edits:
        if code.startswith("{{", start) and code.endswith("}}", start, end):
            code = code[:start] + "X" * (end - start) + code[end:]
    return code


def _written(code: str, root, edit: Edit) -> str | None:
    """How the value must be written in place of code[start:end] to mean itself there; None where it cannot be."""
    start, end, value, expand_globs = edit
    if not value or "\x00" in value:
        return None
    if code[:start].endswith(("$", "${")) or re.match(r"\+?=", code[end:]):  # $x, ${x}, x=...: a variable's name
        return value if _NAME.fullmatch(value) else None
    span = _byte_span(code, start, end)
    node = root.descendant_for_byte_range(*span)
    if node is None:
        return None
    language = _embedded(node, span)
    if language is not None and not inert_in(language, value, node):
        return None
    if value.startswith("-") and not code[start:end].startswith("-"):
        return None  # an operand must not become an option (`rm {{file}}` with "-rf"), quoted or not
    if any(ancestor.type == "command_name" for ancestor in _ancestors(node)) and not _PLAIN.fullmatch(value):
        return None  # what runs is named by a plain word or not at all
    quote = _quote_context(node, span)
    if quote == "'":
        return value.replace("'", "'\\''")  # close, an escaped quote, reopen
    if quote == '"':
        return _double_quoted(value)
    if quote is None:
        return None
    plain = _PLAIN_OR_GLOB if expand_globs else _PLAIN
    if re.search(r"\s", code[start:end]) and all(_plain_word(plain, word) for word in value.split()):
        return value  # the program spells its value out as several plain words: so may the new one
    return value if _plain_word(plain, value) else "'" + value.replace("'", "'\\''") + "'"


def _double_quoted(value: str) -> str:
    r"""A value inside `"…"`: a backslash before $ ` " \ (and a newline) is escaped, and so are $ ` " themselves.
    A `!` is live there in an interactive bash or zsh (history expansion: `"!!"` is the last command line) and a
    backslash does not quote it (bash keeps the backslash), so the double quote closes, `'!'` stands in single
    quotes, where every shell reads it as itself, and the double quote opens again: `"a"'!'"b"`."""
    escaped = re.sub(r'\\(?=[\\"$`\n]|$)|["$`]', lambda char: "\\" + char.group(0), value)
    return escaped.replace("!", "\"'!'\"")


def _plain_word(plain: re.Pattern, word: str) -> bool:
    """Whether a word means itself unquoted in bash, zsh and fish: the plain characters only, and no leading `=`
    (zsh expands `=name` to the path of the command `name`)."""
    return bool(plain.fullmatch(word)) and not word.startswith("=")


def _byte_span(code: str, start: int, end: int) -> tuple[int, int]:
    """Character offsets as the byte offsets of the text tree-sitter parsed (bash_syntax._tree)."""
    def offset(position: int) -> int:
        return len(BEYOND_BMP.sub("\ufffd", code[:position]).encode("utf-8", errors="replace"))

    return offset(start), offset(end)


def _ancestors(node) -> Iterator:
    depth = 0
    while node is not None and depth <= MAX_DEPTH:
        yield node
        node, depth = node.parent, depth + 1


def _quote_context(node, span: tuple[int, int]) -> str | None:
    """"'", '"' or "" (a plain word) for the innermost shell context around the span; None where no value goes."""
    for ancestor in _ancestors(node):
        kind = ancestor.type
        if kind in NOT_SUBSTITUTED:
            return None
        if kind == "raw_string":
            return "'" if ancestor.start_byte < span[0] and span[1] < ancestor.end_byte else None
        if kind == "string":
            return '"'
        if kind in NEW_CONTEXT or kind in ("command", "program"):
            break
    if node.type in LITERAL or all(_literal(child) for child in _overlapping(node, span)):
        return ""
    return None


def _overlapping(node, span: tuple[int, int]) -> list:
    return [child for child in node.children if child.start_byte < span[1] and span[0] < child.end_byte]


def _literal(node, depth: int = 0) -> bool:
    """Whether a node is text the shell takes as written, after quote removal: no expansion, no operator."""
    if node.type not in LITERAL or depth > MAX_DEPTH:
        return False
    return all(_literal(child, depth + 1) for child in node.children)


def _embedded(node, span: tuple[int, int]) -> str | None:
    """The utility whose program text holds the span, if the span lies in the program of an embedded language
    ("" when the innermost language is not known by name: `watch "…"`)."""
    found = None
    for ancestor in _ancestors(node):
        if ancestor.type == "command" and ancestor.child_by_field_name("name") is not None:
            arguments = ancestor.children_by_field_name("argument")
            target = next(
                (i for i, a in enumerate(arguments) if a.start_byte <= span[0] and span[1] <= a.end_byte), None)
            if target is not None:
                language = program_argument(_text(ancestor.child_by_field_name("name")), arguments, target)
                if language is not None and (found is None or language not in INERT_VALUES):
                    found = language  # a language around another one decides if it is the stricter
    return found


def _applied(code: str, written: list[tuple[int, int, str]]) -> tuple[str, list[tuple[int, int]]]:
    """`code` with the written edits in place, and where each now lies."""
    parts, spans, position, shift = [], [], 0, 0
    for start, end, text in sorted(written):
        parts += [code[position:start], text]
        spans.append((start + shift, start + shift + len(text)))
        shift += len(text) - (end - start)
        position = end
    return "".join(parts + [code[position:]]), spans


def _proved(code: str, written: list[tuple[int, int, str]]) -> bool:
    """Whether the filled command has the structure of the command with each slot a plain word, and each value
    lies inside one literal word (or is a variable's name)."""
    filled, spans = _applied(code, written)
    baseline, _ = _applied(code, [(start, end, "X") for start, end, _ in written])
    filled_root, baseline_root = _tree(filled).root_node, _tree(baseline).root_node
    if filled_root.has_error and not (baseline_root.has_error and _tree(code).root_node.has_error):
        return False  # a value that splits an escape (`\\"` in `\"VALUE\"`) breaks the baseline too
    if _structure(filled_root) != _structure(baseline_root):
        return False
    return all(_only_literal(filled_root, _byte_span(filled, start, end)) for start, end in spans)


def _only_literal(root, span: tuple[int, int]) -> bool:
    """Whether the span is one literal word, a variable's name, or plain words (where the program spelled its
    value out as several): no part of it an expansion, an operator or a quote of its own."""
    node = root.descendant_for_byte_range(*span)
    if node is None:
        return False
    if node.type == "variable_name" or _literal(node):
        return True
    if node.type == "string":
        return all(child.type == "string_content" for child in _overlapping(node, span))
    return node.type == "command" and all(_literal(child) for child in _overlapping(node, span))


def _structure(root) -> list[str]:
    """Node types in document order, each run of literal words one "W": what a value must not change."""
    out: list[str] = []
    stack = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            out.append("…")
            continue
        if _literal(node) and node.type != '"':
            if not out or out[-1] != "W":
                out.append("W")
            continue
        out.append(node.type)
        stack.extend((child, depth + 1) for child in reversed(node.children))
    return out

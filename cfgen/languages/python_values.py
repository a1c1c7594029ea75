"""Writing a request's values into a Python snippet as Python literals: each value stays one constant (or one
name) whatever characters it holds, and the filled snippet is proved by a parse.

Where a value lands decides how it is written (the context comes from Python's own tokenizer):
- inside a string literal: escaped for that literal, its quote, backslashes, line breaks and unprintable
  characters as escapes, `{`/`}` doubled in an f-string; a raw or bytes literal takes only what it can hold as
  written (no backslash, quote or line break; ASCII in bytes), else the slot keeps what it held;
- outside any literal: a name (`scores`) or a number as it is, anything else as a string literal (`repr`).
Then the filled snippet is parsed again and must have the shape of the snippet with every value a neutral one
(a name for a name, a string for a string): a value that would add a call, a name, a formatted field or a
statement is left out, the others stay in.
"""

from __future__ import annotations

import ast
import io
import keyword
import re
import tokenize
import warnings

_LITERAL = re.compile(r"(?P<prefix>[rRbBuUfF]{0,2})(?P<quote>'''|\"\"\"|'|\")")
_NUMBER = re.compile(r"(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?")
_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def write_values(code: str, edits: list) -> str:
    """`code` with each edit's value (`bash_quoting.Edit`: start, end, value) written as a literal for its
    context; an edit that cannot be written safely, or whose result fails the proof, is left out."""
    strings = _string_literals(code)
    if strings is None:
        return code  # a snippet the tokenizer cannot read gets no values
    written = [(edit, text) for edit in sorted(edits) if (text := _written(code, strings, edit)) is not None]
    kept = [made for made in written if _proved(code, [made])]
    while kept and not _proved(code, kept):
        kept.pop()  # together they change the shape (rare): keep the first ones that do not
    return _applied(code, [(edit.start, edit.end, text) for edit, (text, _) in kept])


def _string_literals(code: str) -> list[tuple[int, int, str, str]] | None:
    """(start, end, prefix, quote) of every string literal, as character offsets; None where tokenizing fails."""
    line_starts = [0]
    for line in io.StringIO(code):
        line_starts.append(line_starts[-1] + len(line))
    found, opened = [], []
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            start = line_starts[token.start[0] - 1] + token.start[1]
            end = line_starts[token.end[0] - 1] + token.end[1]
            kind = tokenize.tok_name[token.type]
            if kind == "FSTRING_START":  # Python 3.12+ splits an f-string into tokens
                opened.append(start)
            elif kind == "FSTRING_END" and opened:
                found.append((opened.pop(), end))
            elif kind == "STRING":
                found.append((start, end))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None
    literals = []
    for start, end in found:
        match = _LITERAL.match(code, start)
        if match is not None:
            literals.append((start, end, match.group("prefix").lower(), match.group("quote")))
    return literals


def _written(code: str, strings, edit) -> tuple[str, str] | None:
    """(the value as written, the neutral text it stands for in the proof), or None where it cannot go."""
    start, end, value = edit.start, edit.end, edit.value
    if not value or "\x00" in value:
        return None
    for first, last, prefix, quote in strings:
        if start < last and first < end:  # the slot touches this literal
            inside = first + len(prefix) + len(quote) <= start and end <= last - len(quote)
            return (_in_literal(value, prefix, quote), "X") if inside and _in_literal(value, prefix, quote) \
                is not None else None
    if value.isidentifier() and not keyword.iskeyword(value):
        return value, "X"
    if _NUMBER.fullmatch(value):
        return value, "0"
    if _data_expression(value):  # `[1, 2, 3]`, `d['key']` in backticks: the request's own code, and no call
        return f"({value})" if _needs_parentheses(value) else value, None
    return repr(value), "'X'"


_DATA_NODES = (ast.Expression, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.Constant, ast.Name, ast.Load,
               ast.Attribute, ast.Subscript, ast.Slice, ast.UnaryOp, ast.USub, ast.UAdd, ast.Starred)


def _data_expression(value: str) -> bool:
    """Whether `value` is one Python expression of data only: literals, names, attributes and subscripts, with no
    call, operator, lambda, comprehension or formatted string (nothing in it runs)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(value.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return all(isinstance(node, _DATA_NODES) for node in ast.walk(tree))


def _needs_parentheses(value: str) -> bool:
    """A bare tuple (`1, 2`) is one expression only inside parentheses."""
    return isinstance(ast.parse(value.strip(), mode="eval").body, ast.Tuple) and not value.strip().startswith("(")


def _in_literal(value: str, prefix: str, quote: str) -> str | None:
    """`value` as the text between the quotes of a literal with this prefix and quote."""
    if "r" in prefix:
        return None if any(c in value for c in ("\\", quote[0], "\n", "\r")) or not value.isprintable() else value
    if "b" in prefix and not value.isascii():
        return None
    # A backslash is kept as written (`\\w` in a regex means what the request wrote), unless it could join the quote
    # or end the literal: then every backslash is escaped. The proof guards either way.
    keep = not re.search(r"\\(?:$|['\"\n\r])", value)
    escapes = {c: e for c, e in _ESCAPES.items() if c != "\\" or not keep}
    text = "".join(escapes.get(c) or (c if c.isprintable() else _escaped(c)) for c in value)
    text = text.replace(quote[0], "\\" + quote[0])
    return text.replace("{", "{{").replace("}", "}}") if "f" in prefix else text


def _escaped(character: str) -> str:
    point = ord(character)
    return f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}" if point < 0x10000 else f"\\U{point:08x}"


def _applied(code: str, written: list[tuple[int, int, str]]) -> str:
    for start, end, text in sorted(written, reverse=True):
        code = code[:start] + text + code[end:]
    return code


def _proved(code: str, kept: list) -> bool:
    """Whether the snippet with these values parses to the shape it has with each value a neutral one (a data
    expression stands for itself: then the snippet must hold no more calls than with a name in its place)."""
    filled = _applied(code, [(edit.start, edit.end, text) for edit, (text, _) in kept])
    neutral = _applied(code, [(edit.start, edit.end, text if stand_in is None else stand_in)
                              for edit, (text, stand_in) in kept])
    named = _applied(code, [(edit.start, edit.end, "X" if stand_in is None else stand_in)
                            for edit, (_, stand_in) in kept])
    filled_shape, neutral_shape = _shape(filled), _shape(neutral)
    return filled_shape is not None and filled_shape == neutral_shape and _calls(filled) <= _calls(named)


def _calls(code: str) -> int:
    try:
        return sum(isinstance(node, ast.Call) for node in ast.walk(ast.parse(code)))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return 1 << 30


def _shape(code: str) -> str | None:
    """The syntax tree with every constant's value and every name erased: what a value must not change."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            node.value = None
        elif isinstance(node, ast.Name):
            node.id = "_"
    return ast.dump(tree)

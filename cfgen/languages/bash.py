"""Bash as a cfgen language: syntax check, NL2Bash command templates, template match; risk flags in bash_risks.py.

The parse is tree-sitter-bash's (bash_syntax.py); its error nodes tell where a
command is broken.
"""

from __future__ import annotations

import re
from typing import Any

from cfgen.languages import MAX_CODE_CHARS, as_text, checked_code
from cfgen.languages.bash_grounding import settle  # noqa: F401 - candidates filled from the request's values
from cfgen.languages.bash_installed import niche  # noqa: F401 - what retrieval offers only where too few others are
from cfgen.languages.bash_quoting import substitute
from cfgen.languages.bash_risks import risks  # noqa: F401 - part of the Language protocol
from cfgen.languages.bash_values import with_places_as_words as plain_request  # noqa: F401 - retrieval's second query
from cfgen.languages.bash_syntax import (
    ARGUMENT_NODES,
    FIND_EXEC_FLAGS,
    MAX_DEPTH,
    TYPOGRAPHIC_DASHES,
    TYPOGRAPHIC_QUOTES,
    WRAPPERS,
    _commands,
    _text,
    _tree,
)

name = "bash"
position = 0  # in lists of languages
examples = ("find . -name '*.log' -mtime +3", "find . -name '*.log' -mtime +3 | | wc")  # good, broken
# The language's facts (the Language protocol in languages/__init__.py).
metric = "template match"  # CodeFusion's: the command's template (utilities and flags), arguments ignored
lexer = "bash"
benchmark_file, snippet_file = "BashBenchmarks.json", "BashSnippets.txt"
masked_retrieval = False
sample_length = 48
value_slots = True
tables = False
candidate_pool = 4  # programs proposed per candidate shown: `settle` fills and re-ranks them
fills_values = True  # retrieved programs come as written: `settle` puts the request's values in


def write_values(code: str, edits: list) -> str:
    """Request values into a command, each quoted for its context and proved by a parse (bash_quoting)."""
    return substitute(code, edits)[0]


KEPT_LITERALS = {r"\;", "';'", '";"', "{}", "+"}


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


@checked_code
def check(code: str) -> tuple[bool, str]:
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


# Tools whose first word is a subcommand (`git status`, `docker ps`): NL2Bash's template counts it an argument.
SUBCOMMAND_TOOLS = ("git", "docker", "podman", "kubectl", "systemctl", "apt", "apt-get", "npm", "pip", "cargo")
_SUBCOMMAND = re.compile(rf"(?:^|[|;&(]\s*)(?:sudo\s+)?(?:{'|'.join(SUBCOMMAND_TOOLS)})\s+([a-z][\w-]*)")


def distinct(code: str) -> str:
    """What makes two candidates one for a ranking: the template, and the subcommands it runs (`git status` and
    `git summary` share NL2Bash's template `git _` and do different jobs)."""
    return f"{normalise(code)}\x00{' '.join(_SUBCOMMAND.findall(code))}"


def matches(prediction: str, gold: str, context: Any = None) -> bool:
    """Template match (NL2Bash). A prediction that does not parse matches only a gold that
    does not parse either (a handful of benchmark commands are broken)."""
    if not as_text(prediction).strip() or template(prediction) != template(gold):
        return False
    return check(prediction)[0] or not check(gold)[0]

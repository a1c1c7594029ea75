"""tldr-pages (and pages written the same way) as NL -> Bash pairs.

A page is Markdown: `# command`, `> summary` lines, then examples, each a
`- description:` line and a command in backticks. Descriptions lose tldr's
mnemonic brackets (`[c]reate` -> `create`). In commands, an option written in
both forms (`{{[-a|--all]}}`) becomes its long form, which says what it does;
every other placeholder (`{{path/to/file}}`, `{{on|off}}`, `{{file1 file2 ...}}`)
stays as written: it marks where the user's value goes (`placeholders`,
`placeholder_kind`).

Contract: `read_pages` never raises on a page's content. A page that is not
UTF-8, over MAX_PAGE_BYTES, has no title, or holds an example without a
command or a `{{` without its `}}`, is skipped whole and counted.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path

from cfgen.training.data import Pair
from cfgen.errors import DataError

logger = logging.getLogger(__name__)

MAX_PAGE_BYTES = 256_000  # the largest tldr page is under 10 KB; a bigger file is not a page
MAX_PAGES = 100_000  # a folder holding more is not a set of cheat sheets
MNEMONIC = re.compile(r"\[(\w)\]")  # [c]reate, E[x]tract, g[z]ipped
OPTION_FORMS = re.compile(r"\{\{\[([^\]{}]*\|[^\]{}]*)\]\}\}")  # {{[-a|--all]}}, {{[-C|--directory]}}
# `{{…}}`, whose value may itself start or end with a brace (`{{{"key": "value"}}}`, `{{{1..3}}}`): it closes
# at the last `}}` of a run of closing braces
PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}(?!\})")
NOT_PAGES = {"README.md", "LICENSE.md", "CONTRIBUTING.md"}  # Markdown beside the pages that is not a page
COMMON = "common"
# tldr-pages' platform folders (pages/<platform>/x.md); a page elsewhere is common to all.
PLATFORMS = frozenset({COMMON, "linux", "osx", "windows", "android", "freebsd", "netbsd", "openbsd", "sunos",
                       "cisco-ios", "dos"})
_OF_SYS_PLATFORM = {"linux": "linux", "darwin": "osx", "win32": "windows", "cygwin": "windows", "freebsd": "freebsd",
                    "openbsd": "openbsd", "netbsd": "netbsd", "sunos": "sunos"}
DEV_SHARE = 10  # one example in DEV_SHARE goes to the dev split, by hash of page and description


class PageError(ValueError):
    """Why a page cannot be read as examples."""


def this_platform() -> str:
    """The tldr-pages platform cfgen runs on (linux, osx, windows, …)."""
    import sys

    return next((name for prefix, name in _OF_SYS_PLATFORM.items() if sys.platform.startswith(prefix)), "linux")


def foreign(platform: str | None, here: str) -> bool:
    """Whether a page's command is for another platform than `here` (a common one, or one of no page, is not)."""
    return platform not in (None, COMMON, here)


@dataclass(frozen=True)
class Example:
    page: str  # the command the page documents (its title)
    description: str  # mnemonic brackets removed
    command: str  # option forms resolved; value placeholders kept as `{{…}}`
    platform: str = COMMON  # tldr-pages' folder: common, linux, osx, windows, …

    @property
    def dev(self) -> bool:
        """Whether the example belongs to the dev split (about one in DEV_SHARE, stable across runs)."""
        digest = hashlib.sha1(f"{self.page}\0{self.description}".encode()).digest()
        return digest[0] % DEV_SHARE == 0


def clean_description(text: str) -> str:
    """`- [c]reate an archive from `files`:` -> `create an archive from files`."""
    text = MNEMONIC.sub(r"\1", text.strip().removeprefix("-").strip())
    return text.rstrip(":").replace("`", "").strip()


def resolve_options(command: str) -> str:
    """`{{[-a|--all]}}` -> `--all`: the long form of an option written both ways (else the last form)."""
    def long_form(match: re.Match) -> str:
        forms = [form.strip() for form in match.group(1).split("|") if form.strip()]
        longs = [form for form in forms if form.startswith("--")]
        return (longs or forms)[-1]

    return OPTION_FORMS.sub(long_form, command)


def placeholders(command: str) -> list[str]:
    """The value placeholders left in a command, in order, as a fill-in list names them: without their braces,
    doubled ones (`{{{{a}}}}`) unwrapped, an empty one (`{{}}`) as `value`."""
    return [_fill_in_name(name) for name in PLACEHOLDER.findall(command)]


def _fill_in_name(name: str) -> str:
    name = name.strip()
    while name.startswith("{{") and name.endswith("}}"):
        name = name[2:-2].strip()
    return name or "value"


# Placeholder names -> the kind of value a request names (slots.py finds values by kind).
_KINDS = (
    ("url", r"url|https?://|uri|address|example\.|\.(com|org|net)\b|hostname"),
    ("port", r"\bport\b"),
    ("user", r"user(name)?\b|\blogin\b"),
    ("number", r"\b(number|count|seconds?|minutes?|hours?|days?|size|amount|n|\d+)\b|^\d+$"),
    ("pattern", r"pattern|regex|glob|\*\.|wildcard"),
    ("path", r"\bpath\b|/|\bfile|\bdir(ectory)?\b|folder|\.\w{1,4}\b"),
)


def placeholder_kind(name: str) -> str:
    """What kind of value a placeholder stands for: url, port, user, number, pattern, path or text."""
    lowered = name.lower()
    for kind, pattern in _KINDS:
        if re.search(pattern, lowered):
            return kind
    return "text"


def parse_page(text: str) -> list[Example]:
    """The examples of one page; PageError if the page is malformed."""
    lines = [line.strip() for line in text.splitlines()]
    title = next((line[1:].strip() for line in lines if line.startswith("# ")), "")
    if not title:
        raise PageError("no '# command' title")
    examples, description = [], None
    for line in lines:
        if line.startswith("- "):
            if description is not None:
                raise PageError(f"example {description[:40]!r} has no command")
            description = clean_description(line)
        elif line.startswith("`") and line.endswith("`") and len(line) > 2:
            if description is None:
                raise PageError("a command without a description")
            command = line[1:-1].strip()
            if command.count("{{") != command.count("}}"):
                raise PageError(f"unclosed placeholder in {command[:40]!r}")
            examples.append(Example(title, description, resolve_options(command)))
            description = None
    if description is not None:
        raise PageError(f"example {description[:40]!r} has no command")
    return examples  # none for an alias page ("This command is an alias of …")


def is_pages_folder(folder: Path) -> bool:
    """Whether a folder holds tldr-style pages (Markdown files) rather than CodeFusion benchmark files."""
    folder = Path(folder)
    return folder.is_dir() and not any(folder.glob("*Benchmarks.json")) and next(folder.rglob("*.md"), None) is not None


def read_pages(folder: Path) -> tuple[list[Example], int]:
    """Every example of the pages below `folder` (sorted by path), and how many pages were skipped. A page is read
    only where its file lies inside the folder: a symbolic link to a file elsewhere is skipped (with a warning),
    so that pointing cfgen at a folder never reads what lies outside it."""
    examples, skipped = [], 0
    inside = Path(folder).resolve()
    paths = sorted(path for path in Path(folder).rglob("*.md") if path.is_file() and path.name not in NOT_PAGES)
    outside = [path for path in paths if not path.resolve().is_relative_to(inside)]  # a link out of the folder
    if outside:
        logger.warning("skipped %d page(s) linked from outside %s (%s)", len(outside), folder, outside[0])
        paths = [path for path in paths if path not in outside]
    for path in paths[:MAX_PAGES]:
        try:
            if path.stat().st_size > MAX_PAGE_BYTES:
                raise PageError("too large")
            platform = next((part for part in path.relative_to(folder).parts[:-1] if part in PLATFORMS), COMMON)
            examples += [
                replace(example, platform=platform) for example in parse_page(path.read_bytes().decode("utf-8"))
            ]
        except (PageError, UnicodeDecodeError, OSError):
            skipped += 1
    return examples, skipped + max(0, len(paths) - MAX_PAGES)


def page_pairs(folder: Path, hold_out_dev: bool) -> tuple[list[Pair], list[Pair]]:
    """A folder of tldr-style pages as Bash (train, dev) pairs (dev only with `hold_out_dev`); malformed pages are
    counted in one warning."""
    examples, skipped = read_pages(folder)
    if skipped:
        logger.warning("skipped %d malformed page(s) in %s", skipped, folder)
    if not examples:
        raise DataError(f"{folder} holds no page with an example")
    pairs = [(example.dev, Pair(example.description, example.command, "bash", from_pages=True,
                                platform=example.platform)) for example in examples]
    held_out = [dev and hold_out_dev for dev, _ in pairs]
    return ([pair for (_, pair), out in zip(pairs, held_out) if not out],
            [pair for (_, pair), out in zip(pairs, held_out) if out])

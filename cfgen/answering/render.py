"""What cfgen writes to the terminal and to pipes: answers, errors, warnings.

Contract: user text (queries, paths, model names, table cells, generated
code) never reaches rich's markup parser, and control characters in it reach
a terminal only as visible escapes (`\\x1b`), so no input can restyle, hide or
crash the output. Piped and JSON output carry the code exactly as generated.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Iterable

from rich.console import Console
from rich.text import Text

from cfgen.languages import UNPRINTABLE, get_language, optional, unprintable

MIN_WIDTH = 40  # narrower than this (a terminal reporting 0 columns, COLUMNS=5) and a table shows nothing
FALLBACK_WIDTH = 80


def console(**options) -> Console:
    """A rich Console whose width is sane: a terminal that reports 0 or a handful of columns gets 80, so that
    tables are never rendered as nothing."""
    out = Console(**options)
    if out.width < MIN_WIDTH:
        out.width = FALLBACK_WIDTH
    return out


stderr = console(stderr=True, soft_wrap=True, highlight=False)
# On a terminal a long note wraps between words at the terminal's width; elsewhere (a log, a pipe) it stays one line.
stderr.soft_wrap = not stderr.is_terminal
_quiet = False  # -q: only errors, and the warnings that keep a user from running something harmful


def printable(text: object, newlines: bool = False) -> str:
    """`text` with control (and bidi-override) characters shown as escapes; newlines kept only if asked."""
    text = str(text)
    if not newlines:
        text = text.replace("\n", "\\n").replace("\r", "\\r")
    return UNPRINTABLE.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}", text)


def configure_logging(debug: bool, quiet: bool) -> None:
    """cfgen's log lines (and huggingface_hub's errors) on this invocation's stderr, prefixed `cfgen:`."""
    import logging

    global _quiet
    _quiet = quiet and not debug
    level = logging.DEBUG if debug else logging.ERROR if quiet else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)  # this invocation's stderr (tests swap it)
    handler.setFormatter(logging.Formatter("cfgen: %(message)s"))
    if not debug:  # huggingface_hub logs each retry; cfgen says in one line what happened
        handler.addFilter(lambda record: record.name.startswith("cfgen") or record.levelno >= logging.ERROR)
    for name in ("cfgen", "huggingface_hub"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False


def error(message: str) -> None:
    stderr.print(Text.assemble(("error:", "red"), " ", printable(message)))


def warning(message: str, safety: bool = False) -> None:
    """A warning on stderr; under -q only a `safety` one (printed code that is risky or fails its check)."""
    if safety or not _quiet:
        stderr.print(Text.assemble(("warning:", "yellow"), " ", printable(message)))


def info(message: str) -> None:
    stderr.print(Text(printable(message)))


def note(message: str) -> None:
    if not _quiet:
        stderr.print(Text(printable(message), style="dim"))


def json_line(payload: dict) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    sys.stdout.flush()


@dataclass(frozen=True)
class Records:
    """How piped output is cut into records: one record per candidate, `shown` per request.

    A record ends with a newline, or with NUL under `-z` (as `find -print0`,
    for `xargs -0`). A newline-terminated record cannot hold a line break, so
    where records must line up (a batch, or more than one candidate shown) a
    multi-line candidate is written with its backslashes and line breaks
    escaped as two-character sequences (backslash-backslash, backslash-n;
    `printf '%b'` restores it) and stderr says so; a single
    request's single candidate, or any candidate under `-z`, is written as is.
    In a batch every request gets exactly `shown` records (empty ones where it
    has fewer), so that record k*shown+i is request k's i-th candidate.
    """

    shown: int = 1
    null: bool = False
    batch: bool = False

    @property
    def end(self) -> str:
        return "\0" if self.null else "\n"

    @property
    def verbatim(self) -> bool:
        return self.null or (not self.batch and self.shown == 1)


def piped_blank(records: Records = Records()) -> None:
    """The records of a request that gets no answer (a rejected or blank batch line)."""
    sys.stdout.write(records.end * records.shown)
    sys.stdout.flush()


def piped(answer, records: Records, allow_invalid: bool) -> None:
    """The best `records.shown` codes of one answer, as records (see Records); nothing printable: an empty record.

    Invalid candidates are left out unless `allow_invalid`; whatever is printed
    that failed its check or carries risk flags is named on stderr, since
    piped output is what gets run. A printed code never holds a control
    character: one that fails its check for it is written with escapes.
    """
    chosen = [c for c in answer.candidates if allow_invalid or c.valid][: records.shown]
    where = f"line {answer.request.line}: " if answer.request.line else ""
    if not chosen:
        warning(f"{where}no candidate passed its syntax check; nothing printed (--allow-invalid prints them anyway)"
                if answer.candidates else f"{where}no candidate; nothing printed")
    written = []
    for candidate in chosen:
        if not candidate.valid:
            warning(f"{where}printed code fails its syntax check ({candidate.check}): {candidate.code}", safety=True)
        if candidate.risks:
            warning(f"{where}printed code is risky ({', '.join(candidate.risks)}); read it before you run it: "
                    f"{candidate.code}", safety=True)
        if candidate.unfilled:
            names = ", ".join(candidate.unfilled)
            warning(f"{where}fill in {names} before running: the request named no value for "
                    f"{'them' if len(candidate.unfilled) > 1 else 'it'}: {candidate.code}")
        code = printable(candidate.code, newlines=True) if unprintable(candidate.code) else candidate.code
        if "\n" in code and not records.verbatim:
            warning(f"{where}a candidate spans several lines: written with \\n escapes (-z or --json give it as is)")
            code = code.replace("\\", "\\\\").replace("\n", "\\n")
        written.append(code)
    count = records.shown if records.batch else max(len(written), 1)
    sys.stdout.write("".join(code + records.end for code in written + [""] * (count - len(written))))
    sys.stdout.flush()


def terminal(answers: Iterable, shown: int | None, verbose: bool = False) -> None:
    """A table per answer: rank, highlighted code, how it was made, check, risk flags (and CF rows with a
    table; with `verbose`, the training request a retrieved or edited program was written for).

    No score column: a generated candidate's log-probability and a retrieved one's similarity are not on one
    scale, and the rank already says which is preferred. `made` reads `generated`, `edited` or `retrieved`,
    with `, seen` when the program occurs verbatim in the training data.
    """
    from rich.syntax import Syntax
    from rich.table import Table

    out = console(highlight=False, soft_wrap=True)
    for answer in answers:
        candidates = answer.candidates[: shown or len(answer.candidates)]
        if out.width < COMPACT_BELOW:
            _compact(out, answer, candidates, verbose)
            _notes(candidates, shown)
            continue
        table = Table(title=Text(printable(answer.request.query)), title_justify="left", expand=False)
        spreadsheet = optional(get_language(answer.request.lang), "spreadsheet") if verbose else None
        for column in ("#", "code", "made", "check", "risks") + (("written for",) if verbose else ()) + (
                ("excel",) if spreadsheet else ()):
            table.add_column(column, overflow="fold")
        if answer.rows:
            table.add_column("rows")
        for rank_number, candidate in enumerate(candidates, start=1):
            check = _check_text(candidate)
            risks = Text(printable(", ".join(candidate.risks)), style="bold red")
            lexer = get_language(answer.request.lang).lexer
            code = Syntax(printable(candidate.code, newlines=True), lexer, word_wrap=True)
            made = _made(candidate)
            cells = [str(rank_number), code, made, check, risks]
            if verbose:
                cells.append(Text(printable(candidate.request or "-")))
            if spreadsheet:
                made = spreadsheet(candidate.code, answer.request.table)
                cells.append(Text(printable((made or {}).get("formula") or (made or {}).get("type") or "-")))
            if answer.rows:
                rows = answer.rows[rank_number - 1]
                cells.append("-" if rows is None else ", ".join(map(str, rows)) or "none")
            table.add_row(*cells)
        out.print(table)
        _notes(candidates, shown)


COMPACT_BELOW = 100  # columns: a narrower terminal gets each candidate's code on its own lines, not a table


def _made(candidate) -> str:
    """How a candidate was made, whether training holds it, and the platform its page was for if not this one."""
    platform = f", {candidate.platform} only" if getattr(candidate, "platform", None) else ""
    return candidate.source + (", seen" if candidate.seen else "") + platform


def _check_text(candidate) -> Text:
    check = Text("ok", style="green") if candidate.valid else Text(printable(candidate.check), style="red")
    if candidate.unfilled:
        check.append(Text(f"; fill in {printable(', '.join(candidate.unfilled))}", style="yellow"))
    return check


def _compact(out: Console, answer, candidates: list, verbose: bool) -> None:
    """A narrow terminal's form: the request, then per candidate a line of its rank, how it was made, its check
    and its risks, and under it the code on lines of its own (wrapped between words, never inside one that
    fits)."""
    from rich.padding import Padding
    from rich.syntax import Syntax

    out.print(Text(printable(answer.request.query), style="bold"))
    lexer = get_language(answer.request.lang).lexer
    for rank_number, candidate in enumerate(candidates, start=1):
        facts = Text(f"{rank_number:>2} ", style="bold")
        facts.append(_made(candidate), style="dim")
        facts.append(" · ").append_text(_check_text(candidate))
        if candidate.risks:
            facts.append(" · ").append(printable(", ".join(candidate.risks)), style="bold red")
        if verbose and candidate.request:
            facts.append(" · written for: ").append(printable(candidate.request), style="dim")
        if answer.rows and answer.rows[rank_number - 1] is not None:
            facts.append(f" · rows {', '.join(map(str, answer.rows[rank_number - 1])) or 'none'}")
        out.print(facts)
        out.print(
            Padding(Syntax(printable(candidate.code, newlines=True), lexer, word_wrap=True), (0, 0, 0, 3)),
            soft_wrap=False,
        )


def _notes(candidates: list, shown: int | None) -> None:
    wanted = shown or 5
    if len(candidates) < wanted:
        note(
            f"only {len(candidates)} distinct candidate{'s' if len(candidates) != 1 else ''} "
            f"(of {wanted} asked): the others coincided"
        )
    if any(c.seen for c in candidates):
        note("seen: the program occurs verbatim in the training data")


def figures(title: str, values: dict) -> None:
    """An evaluation's figures: a table on a terminal, `name<TAB>value` lines otherwise."""
    from rich.table import Table

    table = Table(title=Text(printable(title)))
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in values.items():
        if isinstance(value, float):
            table.add_row(key, f"{value:.3f}")
    console().print(table)


def models(found: list[dict]) -> None:
    """Known models: a table on a terminal, tab-separated lines otherwise."""
    from rich.table import Table

    out = console()
    if not out.is_terminal:
        for m in found:
            sys.stdout.write(f"{m['name']}\t{m['source']}\t{m['revision']}\t{m['size_mb']:.1f}MB\t{m['path']}\n")
        return
    table = Table()
    for column in ("name", "source", "revision", "size", "path"):
        table.add_column(column, overflow="fold")
    for m in found:
        cells = (m["name"], m["source"], m["revision"], f"{m['size_mb']:.1f} MB", m["path"])
        table.add_row(*(Text(printable(cell)) for cell in cells))
    out.print(table)

"""`cfgen generate` (also `cfgen "QUERY"`): a request, or one per line of stdin, to ranked candidates."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from cfgen import STARTED
from cfgen.commands.options import (
    MAX_CANDIDATES,
    AllowUnverified,
    Device,
    GuessedLang,
    Guidance,
    Model,
    Platform,
    Seed,
    Steps,
    Strength,
    choices,
    one_of,
    within,
)
from cfgen.errors import UsageError
from cfgen.answering.render import note

QueryArgument = Annotated[Optional[str], typer.Argument(
    metavar="QUERY", help="What the code should do. '-' or none (with piped stdin): one request per line.")]
Count = Annotated[Optional[int], typer.Option(
    "-n", help=f"Candidates to show, 1-{MAX_CANDIDATES} (default: 5 on a terminal and with --json, 1 piped).",
    callback=within(1, MAX_CANDIDATES, "-n"))]
Table = Annotated[
    Optional[Path], typer.Option(help="CSV table (cf): ground columns in its header and show selected rows.")
]
AsJson = Annotated[bool, typer.Option("--json", help="One JSON object per request, one per line.")]
AllowInvalid = Annotated[
    bool, typer.Option("--allow-invalid", help="Piped: print candidates that fail their syntax check too.")
]
Null = Annotated[
    bool,
    typer.Option(
        "--null",
        "-z",
        help="Piped: end each candidate with NUL instead of a newline, multi-line code as written (for xargs -0).",
    ),
]
AsForm = Annotated[str, typer.Option(
    "--as", metavar="FORM", callback=one_of(("code", "excel"), "form"), autocompletion=choices(("code", "excel")),
    help="Piped: print each candidate as code (default) or, for CF rules, as the spreadsheet formula (excel).")]
Xlsx = Annotated[Optional[Path], typer.Option(
    "--xlsx", metavar="OUT.xlsx", help="CF with --table: write a workbook of the table with the best rule applied.")]
Force = Annotated[bool, typer.Option("--force", help="--xlsx: replace a file that exists.")]
Sheet = Annotated[Optional[str], typer.Option(
    "--sheet", metavar="NAME", help="With an .xlsx --table: the sheet to read (default: the first).")]
Verbose = Annotated[
    bool,
    typer.Option(
        "--verbose",
        "-v",
        help="Terminal: also show the training request each retrieved or edited program was written for.",
    ),
]


def generate(
    query: QueryArgument = None,
    lang: GuessedLang = None,
    n: Count = None,
    steps: Steps = None,
    seed: Seed = 0,
    model: Model = None,
    device: Device = "auto",
    table: Table = None,
    as_json: AsJson = False,
    strength: Strength = None,
    guidance: Guidance = 1.0,
    allow_invalid: AllowInvalid = False,
    null: Null = False,
    verbose: Verbose = False,
    allow_unverified: AllowUnverified = False,
    platform: Platform = None,
    as_form: AsForm = "code",
    xlsx: Xlsx = None,
    force: Force = False,
    sheet: Sheet = None,
) -> None:
    """Generate ranked candidates for a request (the default command)."""
    from cfgen.answering.answer import Request, Settings, Summary, answers, checked_query, load_table
    from cfgen.answering.stdin_requests import read_windows
    from cfgen.languages import get_language
    from cfgen.answering.output import Output
    from cfgen.answering.remote_answerer import answerer_for
    from cfgen.answering.model_choice import ModelChoice

    if (table is not None or xlsx is not None or as_form == "excel") and lang is None:
        lang = "cf"  # only CF rules name a table's columns, or are spreadsheet rules
    if (xlsx is not None or as_form == "excel") and lang != "cf":
        raise UsageError(f"--xlsx and --as excel write spreadsheet rules: use them with --lang cf, not {lang}")
    if xlsx is not None and (table is None or query in (None, "-")):
        raise UsageError("--xlsx writes the table with the best rule on it: give one query and --table data.csv")
    if xlsx is not None and xlsx.exists() and not force:
        raise UsageError(f"--xlsx {xlsx} exists; add --force to replace it")
    if table is not None and not get_language(lang).tables:
        raise UsageError(
            f"--table grounds candidates in a table's columns, which {lang} code does not name: use it with --lang cf"
        )
    if sheet is not None and table is None:
        raise UsageError("--sheet names a sheet of the --table workbook: give --table book.xlsx")
    rows = load_table(table, sheet) if table is not None else None
    batch = query is None or query == "-"
    if batch and sys.stdin is None:
        raise UsageError("no query, and stdin is closed: give one as an argument, or pipe one per line")
    if batch and sys.stdin.isatty():
        raise UsageError("no query: give one as an argument, or pipe one per line")
    windows = read_windows(sys.stdin.buffer, lang, rows) if batch else [[Request(checked_query(query), lang, rows)]]
    output = Output(as_json=as_json, shown=n, allow_invalid=allow_invalid, batch=batch, null=null, verbose=verbose,
                    form=as_form)
    # the warm answerer (cfgen serve) if it runs, else this process's pipeline
    answerer = answerer_for(ModelChoice(model, device, not allow_unverified, platform))
    settings = Settings(n, steps, seed, strength, guidance)
    summary = Summary()
    first = None
    for item in answers(windows, answerer, settings):
        summary.add(item)
        output.write(item)
        first = first or item
    if xlsx is not None and first is not None:
        source = table if table.suffix.lower() == ".xlsx" else None
        _write_workbook(xlsx, first, force, source, sheet)
    if summary.requests == 0 and summary.rejected == 0:
        raise UsageError(
            "no requests on stdin: every line was blank" if summary.lines else "no requests on stdin: it was empty"
        )
    if output.terminal and summary.requests:  # the timing line: one short line
        hows = [answerer.how(name, settings) for name in summary.languages]
        made = [summary.first_answers(name, how) for name, how in zip(summary.languages, hows)]
        how = "; ".join(_with_note(how, firsts) for how, firsts in zip(hows, made))
        count = f"{summary.requests} request{'s' if summary.requests != 1 else ''}"
        note(f"{count} in {time.perf_counter() - STARTED:.1f} s · {how} · read before you run")
    if summary.rejected:
        raise typer.Exit(5)


def _write_workbook(path: Path, answer, force: bool, source: Path | None, sheet: str | None) -> None:
    """The answer's table (or the workbook it was read from) and its best valid rule that a spreadsheet can say,
    as a workbook at `path`."""
    from cfgen.languages.cf_excel import excel_rule
    from cfgen.languages.cf_workbook import write_workbook

    table = answer.request.table
    made = next((rule for c in answer.candidates if c.valid
                 and (rule := excel_rule(c.code, table[0], len(table) - 1)) is not None), None)
    if made is None:
        raise UsageError("no candidate is a rule a spreadsheet can hold: no workbook written")
    write_workbook(path, table, made, force, source, sheet)
    where = (f"{source} with sheet {sheet}" if sheet else f"{source}") if source else "the table on sheet Data"
    note(f"wrote {path}: {where}, {made.formula or made.kind} on {made.applies_to}")


def _with_note(how: str, note_text: str) -> str:
    """`cf: generated from noise (20 steps)` with a note inside its last parentheses, or after it in new ones."""
    if not note_text:
        return how
    return f"{how[:-1]}; {note_text})" if how.endswith(")") else f"{how} ({note_text})"

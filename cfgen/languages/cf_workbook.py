"""A CF rule written into a workbook: the table's data on a sheet and the rule applied to its range with a
visible fill, through openpyxl (`cfgen "…" --table data.csv --xlsx out.xlsx`); a workbook's sheet read as the
table (`--table book.xlsx [--sheet NAME]`), and the rule added to that workbook.

Contract: the file is written whole or not at all (a temporary file beside it, renamed into place); an existing
file is replaced only with `force`; numbers in the table are written as numbers (a spreadsheet compares them as
numbers), everything else as text. A formula rule is the formula of cf_excel.py; colour scales, data bars, icon
sets, top/bottom k, averages and duplicates are the spreadsheet's own rule types.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from cfgen.errors import UsageError
from cfgen.languages.cf_excel import ExcelRule
from cfgen.languages.cf_rules import NUMBER

FILL = "FFEB9C"  # the spreadsheet's own light yellow highlight
SCALE = ("F8696B", "FFEB84", "63BE7B")  # red, yellow, green: the usual three-colour scale


def write_workbook(path: Path, table: list, rule: ExcelRule, force: bool = False, source: Path | None = None,
                   sheet_name: str | None = None) -> None:
    """`table` (rows, header first) on the sheet "Data" of a new workbook at `path`, `rule` applied to its range;
    with `source` (the .xlsx the table was read from), that workbook as it is, the rule added to its sheet
    `sheet_name` (default: the first). UsageError (exit 2) for a file that exists without `force` or a path that
    is no .xlsx."""
    from openpyxl import Workbook, load_workbook

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise UsageError(f"--xlsx {path}: the workbook's name must end in .xlsx")
    if path.exists() and not force:
        raise UsageError(f"--xlsx {path} exists; add --force to replace it")
    if source is not None:
        book = load_workbook(source)
        sheet = book[sheet_name] if sheet_name else book.worksheets[0]
    else:
        book = Workbook()
        sheet = book.active
        sheet.title = "Data"
        for row in table:
            sheet.append([_cell(value) for value in row])
    sheet.conditional_formatting.add(rule.applies_to, _formatting(rule))
    _saved(book, path)


def read_sheet(path: Path, sheet_name: str | None = None) -> list[list]:
    """A workbook's sheet (`sheet_name`, default the first) as rows of cell values, header first, within
    cf_engine's bounds; CFError (one line) for a file that is no workbook or a sheet it does not hold."""
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    from cfgen.languages.cf_engine import MAX_TABLE_COLUMNS, MAX_TABLE_ROWS
    from cfgen.languages.cf_rules import CFError

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, KeyError, ValueError, OSError) as failure:
        raise CFError(f"{path} is not a readable .xlsx workbook ({failure})"[:300]) from None
    try:
        if sheet_name is not None and sheet_name not in book.sheetnames:
            raise CFError(f"{path} has no sheet {sheet_name!r} (it has {', '.join(map(repr, book.sheetnames))})")
        sheet = book[sheet_name] if sheet_name else book.worksheets[0]
        if (sheet.max_column or 0) > MAX_TABLE_COLUMNS or (sheet.max_row or 0) > MAX_TABLE_ROWS + 1:
            raise CFError(f"{path}: the sheet is larger than {MAX_TABLE_ROWS:,} rows or {MAX_TABLE_COLUMNS:,} columns")
        rows = [["" if value is None else value for value in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    rows = [row for row in rows if any(value != "" for value in row)] if rows else rows
    if not rows:
        raise CFError(f"{path}: the sheet is empty")
    return rows


def _cell(value):
    text = str(value).strip() if value is not None else ""
    if NUMBER.fullmatch(text.replace(",", "")):
        number = float(text.replace(",", ""))
        return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number
    return value


def _formatting(rule: ExcelRule):
    from openpyxl.formatting.rule import ColorScaleRule, DataBarRule, FormulaRule, IconSetRule, Rule
    from openpyxl.styles import PatternFill
    from openpyxl.styles.differential import DifferentialStyle

    fill = PatternFill(start_color=FILL, end_color=FILL, fill_type="solid")
    if rule.kind == "colorScale":
        return ColorScaleRule(start_type="min", start_color=SCALE[0], mid_type="percentile", mid_value=50,
                              mid_color=SCALE[1], end_type="max", end_color=SCALE[2])
    if rule.kind == "dataBar":
        return DataBarRule(start_type="min", end_type="max", color="638EC6")
    if rule.kind == "iconSet":
        return IconSetRule("3TrafficLights1", "percent", [0, 33, 67])
    if rule.kind == "top10":
        return Rule(type="top10", rank=rule.parameters["rank"], percent=rule.parameters["percent"],
                    bottom=rule.parameters["bottom"], dxf=DifferentialStyle(fill=fill))
    if rule.kind == "aboveAverage":
        return Rule(type="aboveAverage", aboveAverage=rule.parameters["aboveAverage"], dxf=DifferentialStyle(fill=fill))
    if rule.kind == "duplicateValues":
        return Rule(type="duplicateValues", dxf=DifferentialStyle(fill=fill))
    return FormulaRule(formula=[rule.formula.removeprefix("=")], fill=fill)


def _saved(book, path: Path) -> None:
    """Save atomically: a temporary file in the same folder, renamed over `path`."""
    folder = path.resolve().parent
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    os.close(handle)
    try:
        book.save(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

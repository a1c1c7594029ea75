"""Do the spreadsheet formulas mean what cfgen's rules mean? Every CF dev rule with a table, as its Excel formula
(cfgen/languages/cf_excel.py), evaluated cell by cell by an independent Excel formula engine (the `formulas`
package: pip install formulas), against the rows cfgen's own executor (cf_engine.py) selects.

    python bench/cf_excel.py [--data ../shared/data/codefusion] [--split dev] [--libreoffice]

Prints the agreement (rules whose selected rows are the same), the rules a spreadsheet says only by a built-in type
(colour scales, data bars, icon sets: no formula to evaluate) and every disagreement; writes
bench/results/cf_excel.json. With --libreoffice each formula is also computed by LibreOffice Calc (headless).
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def engine_rows(formula: str, table: list) -> list[bool]:
    """Per data row, whether the formula (written for row 2) holds there, by the `formulas` engine."""
    import formulas
    import numpy

    compiled_by_row = []
    for row in range(2, len(table) + 1):
        text = re.sub(r"\$([A-Z]+)2(?![\d:])", lambda m: f"{m.group(1)}{row}", formula)
        compiled_by_row.append(formulas.Parser().ast(text)[1].compile())
    selected = []
    for function in compiled_by_row:
        values = [_input(name, table, numpy) for name in function.inputs]
        result = numpy.asarray(function(*values)).ravel()[0]
        # a formula that comes to an error (LARGE of no numbers) formats nothing, as in the spreadsheet
        selected.append(isinstance(result, (bool, numpy.bool_)) and bool(result))
    return selected


def libreoffice_rows(formula: str, table: list, folder: Path) -> list[bool]:
    """Per data row, whether the formula holds there, as LibreOffice Calc computes it: the table and the formula
    (one per row, in a column beside the table) in a workbook, recalculated and saved as CSV by `soffice
    --headless` (LibreOffice computes formulas that carry no value when it loads a file)."""
    import csv
    import os
    import subprocess

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in table:
        sheet.append([_typed(value) if value not in ("", None) else None for value in row])
    helper = len(table[0]) + 2  # a blank column between the table and the formulas
    for row in range(2, len(table) + 1):
        sheet.cell(row=row, column=helper, value=re.sub(r"\$([A-Z]+)2(?![\d:])", lambda m: f"${m.group(1)}{row}",
                                                        formula))
    source = folder / "formulas.xlsx"
    book.save(source)
    subprocess.run(["soffice", "--headless", "--convert-to", "csv", "--outdir", str(folder), str(source)],
                   capture_output=True, timeout=120, env={**os.environ, "HOME": str(folder)}, check=True)
    with open(folder / "formulas.csv", newline="", encoding="utf-8", errors="replace") as handle:
        rows = list(csv.reader(handle))[1:]
    return [len(row) >= helper and row[helper - 1].strip().upper() == "TRUE" for row in rows][: len(table) - 1]


def _input(name: str, table: list, numpy):
    """A cell's value (a number where it reads as one), or a range's values as a column array."""
    match = re.fullmatch(r"\$?([A-Z]+)\$?(\d+)(?::\$?([A-Z]+)\$?(\d+))?", name.split("!")[-1])
    column = _column_index(match.group(1))
    if match.group(3) is None:
        return _typed(_cell(table, int(match.group(2)) - 1, column))
    first, last = int(match.group(2)) - 1, int(match.group(4)) - 1
    return numpy.array([[_typed(_cell(table, row, column))] for row in range(first, last + 1)], dtype=object)


def _cell(table: list, row: int, column: int):
    return table[row][column] if row < len(table) and column < len(table[row]) else ""


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def _typed(value):
    """As a spreadsheet holds a cell typed in: a number where the text is one (thousands commas too), else the
    text; an empty cell is empty."""
    from cfgen.languages.cf_rules import NUMBER

    text = "" if value is None else str(value).strip()
    if NUMBER.fullmatch(text.replace(",", "")):
        return float(text.replace(",", ""))
    return text if text else formulas_empty()


def formulas_empty():
    import formulas

    return formulas.functions.EMPTY if hasattr(formulas.functions, "EMPTY") else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "codefusion")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "cf_excel.json")
    parser.add_argument("--libreoffice", action="store_true",
                        help="also compute each formula in LibreOffice Calc (soffice --headless), a real spreadsheet")
    args = parser.parse_args()
    from cfgen.languages.cf_engine import execute
    from cfgen.languages.cf_excel import excel_rule
    from cfgen.training.data import benchmark_path, load_benchmark

    items = [item for item in load_benchmark(benchmark_path(args.data, "cf"), args.split, "cf") if item.table]
    agree, built_in_only, unsaid, disagreements = 0, [], [], []
    calc_agree, calc_disagreements = 0, []
    for item in items:
        made = excel_rule(item.code, item.table[0], len(item.table) - 1)
        if made is None:
            unsaid.append(item.code)
            continue
        if made.formula is None:
            built_in_only.append(item.code)
            continue
        try:
            ours = execute(item.code, item.table)
        except ValueError:
            unsaid.append(item.code)
            continue
        theirs = engine_rows(made.formula, item.table)
        if ours == theirs:
            agree += 1
        else:
            disagreements.append({"rule": item.code, "formula": made.formula, "cfgen": ours, "engine": theirs})
        if args.libreoffice:
            with tempfile.TemporaryDirectory() as folder:
                calc = libreoffice_rows(made.formula, item.table, Path(folder))
            calc_agree += calc == ours
            if calc != ours:
                calc_disagreements.append({"rule": item.code, "formula": made.formula, "cfgen": ours, "calc": calc})
    checked = agree + len(disagreements)
    print(f"{len(items)} {args.split} rules with a table: {checked} as formulas, {agree} agree "
          f"({agree / max(checked, 1):.3f}); {len(built_in_only)} built-in type only; {len(unsaid)} not convertible")
    for found in disagreements:
        print(f"  disagree: {found['rule']}  {found['formula']}  cfgen {found['cfgen']}  engine {found['engine']}")
    if args.libreoffice:
        print(f"LibreOffice Calc: {calc_agree} of {checked} agree")
        for found in calc_disagreements:
            print(f"  Calc disagrees: {found['rule']}  {found['formula']}  cfgen {found['cfgen']}  calc {found['calc']}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"rules": len(items), "formulas": checked, "agree": agree,
                                       "built_in_only": built_in_only, "not_convertible": unsaid,
                                       "disagreements": disagreements,
                                       **({"libreoffice_agree": calc_agree, "libreoffice_disagreements":
                                           calc_disagreements} if args.libreoffice else {})}, indent=1) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()

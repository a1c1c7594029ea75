"""CF rules in a spreadsheet's terms (cfgen/languages/cf_excel.py): the formula to paste and the range it applies
to, the built-in rule types, and the rule written into a workbook (cf_workbook.py, openpyxl)."""

import json
import subprocess
import sys

import pytest

from cfgen.languages.cf_excel import column_letter, excel_rule

HEADER = ["Item", "Price", "Status"]


@pytest.mark.parametrize("rule, formula, applies_to, kind", [
    ("GreaterThan(10)", "=AND(ISNUMBER($B2),$B2>10)", "B2:B4", "expression"),
    ("AND(GreaterThan(10), LessThan(50))", "=AND(ISNUMBER($B2),$B2>10,$B2<50)", "B2:B4", "expression"),
    ("OR(LessThan(c[1], 5), GreaterThan(c[1], 80))", "=OR(AND(ISNUMBER($B2),$B2<5),AND(ISNUMBER($B2),$B2>80))",
     "B2:B4", "expression"),
    ("TextContains(c[2], late)", '=ISNUMBER(SEARCH("late",$C2))', "C2:C4", "expression"),
    ('TextContains(c[2], "5*")', '=ISNUMBER(FIND(LOWER("5*"),LOWER($C2)))', "C2:C4", "expression"),
    ("Top(c[1], 3)", "=AND(ISNUMBER($B2),$B2>=LARGE($B$2:$B$4,MIN(3,COUNT($B$2:$B$4))))", "B2:B4", "top10"),
    ("TextEquals(c[2], 'say \"hi\"')", '=TRIM($C2)="say ""hi"""', "C2:C4", "expression"),
    ("NOT(TextContains(c[2], US))", '=NOT(ISNUMBER(SEARCH("US",$C2)))', "C2:C4", "expression"),
    ("StartsWith(c[0], ab)", '=LEFT($A2,LEN("ab"))="ab"', "A2:A4", "expression"),
    ("Between(c[1], 60, 80)", "=AND(ISNUMBER($B2),$B2>=MIN(60,80),$B2<=MAX(60,80))", "B2:B4", "expression"),
    ("Blanks(c[2])", "=LEN(TRIM($C2))=0", "C2:C4", "expression"),
    ("GreaterThan(c[1], 0.5)", "=AND(ISNUMBER($B2),$B2>0.5)", "B2:B4", "expression"),
    ("LessThan(LEN(c[0]), 4)", "=LEN($A2)<4", "A2:A4", "expression"),
    ("GreaterThan(c[1], c[2])", "=AND(ISNUMBER($B2),ISNUMBER($C2),$B2>$C2)", "B2:B4", "expression"),
    ("Top(c[1], 1)", "=AND(ISNUMBER($B2),$B2>=LARGE($B$2:$B$4,1))", "B2:B4", "top10"),
    ("Duplicate(c[0])", "=AND(LEN(TRIM($A2))>0,COUNTIF($A$2:$A$4,$A2)>1)", "A2:A4", "duplicateValues"),
    ("AboveAverage(c[1])", "=AND(ISNUMBER($B2),$B2>AVERAGE($B$2:$B$4))", "B2:B4", "aboveAverage"),
    ("ColorScale(c[1])", None, "B2:B4", "colorScale"),
])
def test_each_rule_has_the_formula_a_spreadsheet_takes(rule, formula, applies_to, kind):
    made = excel_rule(rule, HEADER, 3)
    assert (made.formula, made.applies_to, made.kind) == (formula, applies_to, kind)


def test_built_in_types_carry_their_parameters_and_no_table_means_column_a_said_so():
    assert excel_rule("BottomPercent(c[1], 10)", HEADER, 3).parameters == {"rank": 10, "percent": True, "bottom": True}
    alone = excel_rule("GreaterThan(10)")
    assert alone.applies_to == "A2:A101" and "column A" in alone.note
    assert excel_rule("GreaterThan(10", HEADER, 3) is None  # broken
    assert excel_rule("AND(ColorScale(), GreaterThan(1))", HEADER, 3) is None  # no formula says a scale inside AND
    assert [column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]


def test_a_workbook_holds_the_table_and_the_best_rule_with_a_fill(tmp_path):
    from openpyxl import load_workbook

    csv = tmp_path / "prices.csv"
    csv.write_text("Item,Price\napple,5\npear,30\nfig,60\n")
    out = tmp_path / "out.xlsx"
    command = [sys.executable, "-m", "cfgen", "color cells greater than 10 and less than 50", "--table", str(csv),
               "--xlsx", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "wrote" in result.stderr, result.stderr
    sheet = load_workbook(out)["Data"]
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [["Item", "Price"], ["apple", 5], ["pear", 30],
                                                                    ["fig", 60]]
    [(cells, rules)] = [(str(f.sqref), f.rules) for f in sheet.conditional_formatting]
    assert cells == "B2:B4" and rules[0].type == "expression" and rules[0].dxf.fill.fgColor.rgb.endswith("FFEB9C")
    assert rules[0].formula[0].startswith("AND(ISNUMBER($B2)")
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "--force" in again.stderr  # never replaced without it
    assert subprocess.run(command + ["--force"], capture_output=True, timeout=300).returncode == 0
    piped = subprocess.run([sys.executable, "-m", "cfgen", "color cells greater than 10", "--table", str(csv), "--as",
                            "excel"], capture_output=True, text=True, timeout=300)
    assert piped.stdout.strip() == "=AND(ISNUMBER($B2),$B2>10)", piped.stderr
    bash = subprocess.run([sys.executable, "-m", "cfgen", "list files", "--lang", "bash", "--as", "excel"],
                          capture_output=True, text=True, timeout=300)
    assert bash.returncode == 2 and "--lang cf" in bash.stderr


def test_json_gives_each_cf_candidate_its_spreadsheet_form(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("Item,Status\na,late\nb,done\n")
    result = subprocess.run([sys.executable, "-m", "cfgen", "highlight the rows whose status contains late", "--table",
                             str(csv), "--json"], capture_output=True, text=True, timeout=300)
    first = json.loads(result.stdout)["candidates"][0]
    assert first["excel"]["applies_to"].endswith("2:" + first["excel"]["applies_to"][0] + "3")
    assert first["excel"]["formula"].startswith("=")


def test_an_independent_formula_engine_selects_the_rows_cfgen_s_executor_selects():
    """`python bench/cf_excel.py` checks every dev rule; here a table with text, blanks, numbers as text and ties."""
    pytest.importorskip("formulas")
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from cf_excel import engine_rows

    from cfgen.languages.cf_engine import execute

    table = [["Item", "Price", "Status"], ["apple", "5", "late"], ["pear", "30", "On time"], ["fig", "", "LATE!"],
             ["kiwi", "1,200", ""], ["plum", "30", "late"], ["lime", "n/a", "5*"]]
    rules = ["GreaterThan(c[1], 10)", "LessThan(c[1], 10)", "Between(c[1], 1, 40)", "TextContains(c[2], late)",
             "NOT(TextContains(c[2], late))", 'TextContains(c[2], "5*")', "StartsWith(c[2], on)", "Blanks(c[2])",
             "Duplicate(c[1])", "Top(c[1], 2)", "Bottom(c[1], 1)", "AboveAverage(c[1])", "TextEquals(c[2], LATE)",
             "OR(Equals(c[1], 5), EndsWith(c[2], '!'))", "LessThan(LEN(c[0]), 5)", "TopPercent(c[1], 50)"]
    for rule in rules:
        made = excel_rule(rule, table[0], len(table) - 1)
        assert engine_rows(made.formula, table) == execute(rule, table), (rule, made.formula)


def test_a_workbook_s_sheet_is_a_table_and_the_rule_joins_that_workbook(tmp_path):
    from openpyxl import Workbook, load_workbook

    book = Workbook()
    book.active.title = "Notes"
    book.active.append(["keep me"])
    prices = book.create_sheet("Prices")
    for row in (["Item", "Price"], ["apple", 5], ["pear", 30]):
        prices.append(row)
    source = tmp_path / "book.xlsx"
    book.save(source)
    out = tmp_path / "out.xlsx"
    command = [sys.executable, "-m", "cfgen", "color cells greater than 10", "--table", str(source), "--sheet",
               "Prices", "--xlsx", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    written = load_workbook(out)
    assert written.sheetnames == ["Notes", "Prices"] and written["Notes"]["A1"].value == "keep me"
    [formatting] = list(written["Prices"].conditional_formatting)
    assert str(formatting.sqref) == "B2:B3" and formatting.rules[0].formula == ["AND(ISNUMBER($B2),$B2>10)"]
    wrong = subprocess.run(command[:-2] + ["--sheet", "Nope"], capture_output=True, text=True, timeout=300)
    assert wrong.returncode == 2 and "no sheet 'Nope'" in wrong.stderr and wrong.stderr.count("\n") == 1
    broken = tmp_path / "broken.xlsx"
    broken.write_text("not a zip")
    unread = subprocess.run([sys.executable, "-m", "cfgen", "color cells", "--table", str(broken)],
                            capture_output=True, text=True, timeout=300)
    assert unread.returncode == 2 and "not a readable .xlsx" in unread.stderr


def test_libreoffice_selects_the_rows_cfgen_s_executor_selects(tmp_path):
    """A real spreadsheet reads each formula and formats the rows the rule selects (LibreOffice Calc, headless:
    `apt-get install libreoffice-calc-nogui`)."""
    import shutil
    from pathlib import Path

    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice is not installed (apt-get install libreoffice-calc-nogui)")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from cf_excel import libreoffice_rows

    from cfgen.languages.cf_engine import execute

    table = [["Item", "Price", "Status"], ["apple", "5", "late"], ["pear", "30", "On time"], ["fig", "", "LATE!"],
             ["kiwi", "1200", ""], ["plum", "30", "late"]]
    rules = ["AND(GreaterThan(c[1], 10), LessThan(c[1], 50))", "TextContains(c[2], late)", "Blanks(c[2])",
             "Duplicate(c[1])", "Top(c[1], 2)", "NOT(TextContains(c[2], late))", "StartsWith(c[2], on)",
             "AboveAverage(c[1])"]
    for number, rule in enumerate(rules):
        made = excel_rule(rule, table[0], len(table) - 1)
        folder = tmp_path / str(number)
        folder.mkdir()
        assert libreoffice_rows(made.formula, table, folder) == execute(rule, table), (rule, made.formula)

"""A request's values in Python snippets stay one constant (cfgen/languages/python_values.py), and the risk check
reads calls whose names are built at run time (python_risks.py)."""

import ast
import subprocess
import sys

import pytest

from cfgen.languages.bash_quoting import Edit
from cfgen.languages.python_risks import risks
from cfgen.languages.python_values import write_values
from cfgen.values.slots import transfer

HOSTILE = ["x'); __import__('os').system('touch PWNED'); ('", 'x"); __import__("os").system("touch PWNED"); ("',
           "x\\'); touch('PWNED", "{__import__('os').system('touch PWNED')}", "a\nimport os; os.system('PWNED')",
           "PWNED'''", 'PWNED"""', "x\\", "\x1b]0;PWNED\x07", "PWNED'\"{}\\\n"]
SNIPPETS = ["open('file.txt').readlines()", 'open("file.txt").readlines()', "open(f'{root}/file.txt')",
            "open('''file.txt''')", "open(file.txt)", "print(b'file.txt')", "print(r'file.txt')",
            "x = {'file.txt': 1}"]


def _constants(code: str) -> list:
    return [node.value for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Constant)]


@pytest.mark.parametrize("snippet", SNIPPETS)
@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_value_is_one_constant_or_left_out(snippet, value):
    start = snippet.index("file.txt")
    filled = write_values(snippet, [Edit(start, start + len("file.txt"), value)])
    calls = [node for node in ast.walk(ast.parse(filled)) if isinstance(node, ast.Call)]
    assert len(calls) == snippet.count("("), filled  # no call added
    if filled != snippet:
        texts = [c.decode() if isinstance(c, bytes) else str(c) for c in _constants(filled)]
        assert value in texts or any(value in text for text in texts), filled  # the value, whole, inside a constant


def test_the_reported_line_prints_the_value_and_runs_nothing(tmp_path):
    value = "x'); __import__('os').system('touch PWNED'); ('"
    snippet = "with open('notes.txt') as f:\n    print(f.name)"
    filled = transfer(snippet, [("path", "notes.txt")], [("path", value)], "python")
    assert value not in filled and filled != snippet
    result = subprocess.run([sys.executable, "-c", "import builtins; builtins.open = lambda n: "
                             "__import__('io').StringIO(n)\n" + filled.replace("f.name", "f.read()")],
                            cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert result.stdout.strip() == value and not (tmp_path / "PWNED").exists(), (filled, result.stderr)


def test_plain_values_are_written_as_a_person_would():
    code = "sorted(d.items(), key=lambda kv: kv[1])"
    assert write_values(code, [Edit(7, 8, "scores")]) == "sorted(scores.items(), key=lambda kv: kv[1])"
    assert write_values("x = 10", [Edit(4, 6, "25")]) == "x = 25"
    assert write_values("x = 10", [Edit(4, 6, "my file")]) == "x = 'my file'"
    assert write_values("f'{a}.csv'", [Edit(6, 9, "{x}")]) == "f'{a}.{{x}}'"
    assert write_values("open(r'a.txt')", [Edit(7, 12, "c:\\x")]) == "open(r'a.txt')"  # a raw literal cannot


def test_a_request_s_data_in_backticks_is_code_and_anything_that_calls_is_a_string():
    code = "dict(zip(a, b))"
    assert write_values(code, [Edit(9, 10, "[1, 2, 3]"), Edit(12, 13, "d['k']")]) == "dict(zip([1, 2, 3], d['k']))"
    assert write_values("len(x)", [Edit(4, 5, "__import__('os').system('x')")]) == \
        "len(\"__import__('os').system('x')\")"
    assert write_values("len(x)", [Edit(4, 5, "1, 2")]) == "len((1, 2))"
    assert write_values("re.match('a', s)", [Edit(10, 11, "[a-z][\\w-]*$")]) == "re.match('[a-z][\\w-]*$', s)"


@pytest.mark.parametrize("code, flag", [
    ("getattr(__import__('o'+'s'),'sys'+'tem')('touch x')", "calls a name looked up at run time (getattr)"),
    ("getattr(__import__('o'+'s'),'sys'+'tem')('touch x')", "imports a module named at run time"),
    ("getattr(os, 'system')('ls')", "runs a shell command"),
    ("globals()['eval']('1')", "calls something looked up at run time"),
    ("importlib.import_module(name).run()", "imports a module named at run time"),
    ("getattr(builtins, 'exec')('1')", "runs text as Python code (eval/exec)"),
    ("compile(text, 'f', 'exec')", "runs text as Python code (compile)"),
])
def test_calls_built_at_run_time_are_flagged(code, flag):
    assert flag in risks(code)


def test_ordinary_lookups_are_not_flagged():
    assert risks("getattr(obj, 'name', None)") == [] and risks("importlib.import_module('json')") == []
    assert risks("d['key']") == [] and risks("sorted(d.items(), key=lambda kv: kv[1])") == []


def test_the_values_metric_sees_a_name_or_text_nobody_said():
    """bench/values.py's Python rule: free names, strings and numbers past the small ones are values; bound names,
    builtins and modules are not; a value the request says or the right answer holds is from somewhere."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "bench" / "values.py"
    spec = importlib.util.spec_from_file_location("bench_values", path)
    values = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(values)
    request, gold = "sort dictionary `scores` by value", "sorted(scores, key=scores.get)"
    assert values.python_nowhere_values("sorted(scores.items(), key=lambda kv: kv[1])", request, gold) == []
    assert values.python_nowhere_values("sorted(d.items(), key=lambda kv: kv[1])", request, gold) == ["d"]
    assert values.python_nowhere_values("re.sub('a', 'hello', s)", "replace 'a' in string `s`", "s.replace('a', '')") \
        == ["hello"]
    assert values.python_nowhere_values("time.sleep(3600)", "wait an hour", "time.sleep(60 * 60)") == ["3600"]
    assert values.python_values("[x for x in range(3) if x in os.environ]") == set()
    assert values.python_nowhere_values("int(0xff, 16)", "convert hex string \"0xff\" to decimal", "int(\"0xff\", 16)") == []

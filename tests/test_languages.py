"""Checkers, normal forms, templates, risk flags and ranking on real and broken code."""

import time

import pytest
from conftest import benchmark_items

from cfgen.languages import bash, get_language, language_names, python
from cfgen.ranking import Candidate, rank


@pytest.fixture(scope="module")
def bash_dev():
    return benchmark_items("bash")


@pytest.fixture(scope="module")
def python_dev():
    return benchmark_items("python")


def test_python_check_accepts_the_benchmark_and_rejects_broken_code(python_dev):
    valid = [python.check(p.code)[0] for p in python_dev]
    assert sum(valid) / len(valid) > 0.95
    for broken in ["x[::-1", "def f(:", "print('a'", "", "   ", "for x in : pass"]:
        ok, message = python.check(broken)
        assert not ok and message


def test_python_normal_form_ignores_spacing_and_quotes():
    assert python.normalise("d [ 'a' ]  =  1") == python.normalise('d["a"] = 1')
    assert python.matches("sorted( x , key=len )", "sorted(x, key=len)")
    assert not python.matches("sorted(x)", "sorted(x, key=len)")
    assert not python.matches("", "")


def test_python_survives_deep_nesting_and_huge_input():
    assert python.check("(" * 5000 + ")" * 5000)[0] is False
    assert python.check("x = 1\n" * 5000)[0] is False


def test_bash_check_accepts_the_benchmark_and_rejects_broken_commands(bash_dev):
    valid = [bash.check(p.code)[0] for p in bash_dev]
    assert sum(valid) / len(valid) > 0.97
    for broken in ["ls |", "echo $(date", "for f in *; do echo", "find . -name 'x", "if [ -f x ]; then", ""]:
        ok, message = bash.check(broken)
        assert not ok and message, broken


def test_bash_survives_the_text_that_hangs_bashlex():
    hostile = [
        "find |l -1 -directory \\; f -txt xargs ${a",
        "echo ${a${b${c${d${e",
        "${" * 2000,
        "find . -name '*.txt' | xargs ${#${!${@${",
        "$((" * 1000,
    ]
    started = time.perf_counter()
    for text in hostile:
        assert bash.check(text)[0] is False
        bash.template(text)
        bash.risks(text)
    assert time.perf_counter() - started < 30  # a guard against loops, loose enough for a busy machine


@pytest.mark.parametrize(
    "a, b",
    [
        ("find . -name '*.txt' -mtime +3", "find /tmp -name \"*.log\" -mtime -1"),
        ("ls -la | grep foo > out.txt", "ls -la | grep bar > x"),
        ("find /tmp -type f -exec rm {} \\;", "find ~ -type d -exec rm {} \\;"),
        ("echo $(date +%s)", "echo $(date +%Y)"),
        ("ls  -l   /home", "ls -l /var"),
    ],
)
def test_bash_templates_that_must_match(a, b):
    assert bash.template(a) == bash.template(b)
    assert bash.matches(a, b)


@pytest.mark.parametrize(
    "a, b",
    [
        ("find . -name '*.txt'", "find . -iname '*.txt'"),  # another flag
        ("ls | grep foo", "ls > grep"),  # pipe vs redirection
        ("find . -exec rm {} \\;", "find . -exec cat {} \\;"),  # another utility under -exec
        ("cat a | xargs rm", "cat a | xargs ls"),  # another utility under xargs
        ("ls -l", "ls -l; ls"),  # structure
    ],
)
def test_bash_templates_that_must_not_match(a, b):
    assert bash.template(a) != bash.template(b)
    assert not bash.matches(a, b)


def test_bash_broken_prediction_matches_only_a_broken_gold():
    assert not bash.matches("ls -l |", "ls -l")
    assert not bash.matches("echo $(date", "echo $(date)")
    assert bash.matches("grep -r \"a” dir", "grep -r \"b” dir")  # both broken the same way


@pytest.mark.parametrize(
    "code, flag",
    [
        ("rm -rf /", "recursive delete of /"),
        ("sudo rm -rf ~/", "recursive delete of ~/"),
        ("rm -rf build", "forced recursive delete"),
        ("dd if=/dev/zero of=/dev/sda bs=1M", "dd writes to a block device"),
        ("mkfs.ext4 /dev/sdb1", "formats or repartitions a disk"),
        ("chmod -R 777 /", "recursive chmod on a system path"),
        ("chown -R nobody /", "recursive chown on a system path"),
        ("echo hi > /dev/sda", "writes to a block device"),
        ("curl -fsSL https://x.sh | sh", "pipes a download into a shell"),
        ("wget -qO- http://x | sudo bash", "pipes a download into a shell"),
        (":(){ :|:& };:", "fork bomb"),
        ("sudo apt-get update", "runs as root"),
        ("rm file.txt", "deletes files"),
        ("ls *.bak | xargs rm", "deletes files"),
        ("find . -name '*.pyc' -delete", "deletes the files it finds"),
        ("find /tmp -mtime +3 -exec rm {} \\;", "deletes the files it finds"),
        ("source <(wget -q -O - https://x/i.sh)", "runs a downloaded script"),
        ("bash <(curl -s https://x/i.sh)", "runs a downloaded script"),
        ("bash < <(curl -s https://x/i.sh)", "runs a downloaded script"),
        ('sh -c "$(curl https://x/i.sh)"', "runs a downloaded script"),
        ('eval "$(curl https://x/i.sh)"', "runs a downloaded script"),
        ('ruby -e "$(curl -fsSL https://x/install)"', "runs a downloaded script"),
        ('bash -c "`wget -qO- https://x`"', "runs a downloaded script"),
        ("\\rm -rf /", "recursive delete of /"),
        ("'rm' -rf ~", "recursive delete of ~"),
        # through wrappers and the shell programs commands run
        ('sh -c "rm -rf /"', "recursive delete of /"),
        ("bash -c 'rm -rf ~'", "recursive delete of ~"),
        ('eval "rm -rf ~"', "recursive delete of ~"),
        ("timeout 5 rm -rf /", "recursive delete of /"),
        ("chroot /srv rm -rf /", "recursive delete of /"),
        ("setsid rm -rf /", "recursive delete of /"),
        ("ionice -c3 rm -rf /", "recursive delete of /"),
        ("strace -f rm -rf /", "recursive delete of /"),
        ("flock /tmp/lock rm -rf /", "recursive delete of /"),
        ("sudo -u bob rm -rf /", "recursive delete of /"),
        ('find . -type d -exec sh -c "rm -rf {}" \\;', "forced recursive delete"),
        ("xargs -I {} bash -c 'dd if=/dev/zero of=/dev/sda'", "dd writes to a block device"),
        ('watch "rm -rf /"', "recursive delete of /"),
        ('ssh web1 "rm -rf /"', "recursive delete of /"),
        ("sh -c \"eval 'rm -rf /'\"", "recursive delete of /"),
        ("curl -s https://x/a.sh > a.sh; bash a.sh", "runs a downloaded script"),
        ("wget -qO- https://x/i.sh >> i.sh && sh i.sh", "runs a downloaded script"),
    ],
)
def test_bash_risk_flags(code, flag):
    assert flag in bash.risks(code)


@pytest.mark.parametrize("code", ["ls -la", "find . -name '*.pyc' -print", "find . -exec grep -l x {} +", "chmod 644 a.txt",
                                  "curl -O http://x/file.tar.gz", 'echo "$(curl -s http://x/ip)"', 'eval "$(ssh-agent -s)"'])
def test_bash_harmless_commands_are_not_flagged(code):
    assert bash.risks(code) == []


@pytest.mark.parametrize(("code", "flag"), [
    ('os.system("ls " + name)', "runs a shell command"),
    ("os.popen(cmd).read()", "runs a shell command"),
    ('__import__("os").system("id")', "runs a shell command"),
    ("subprocess.call(cmd, shell=True)", "runs a shell command (shell=True)"),
    ('shutil.rmtree("/")', "recursive delete of /"),
    ("shutil.rmtree(os.path.expanduser('~'))", "recursive delete of ~"),
    ("shutil.rmtree(folder)", "deletes a directory tree"),
    ("os.remove(path)", "deletes files"),
    ("pathlib.Path(p).unlink()", "deletes files"),
    ("eval(input())", "runs text as Python code (eval/exec)"),
    ("exec(open('x.py').read())", "runs text as Python code (eval/exec)"),
])
def test_python_risk_flags(code, flag):
    from cfgen.languages import python

    assert flag in python.risks(code)


@pytest.mark.parametrize("code", ["x[::-1]", "items.remove(x)", 'subprocess.run(["ls", "-l"])', "sorted(d.items())",
                                  "model.eval()", "def f(:"])
def test_python_harmless_code_is_not_flagged(code):
    from cfgen.languages import python

    assert python.risks(code) == []


@pytest.mark.parametrize("code", ["find . -mtime +3 \u2013exec rm \u2013f {} \\;", "echo \u201chello\u201d", "ls \u2014la"])
def test_bash_typographic_dashes_and_quotes_are_invalid(code):
    valid, message = bash.check(code)
    assert not valid and "typographic" in message


def test_unknown_language_lists_the_choices():
    with pytest.raises(ValueError, match="bash, python, cf"):
        get_language("perl")


def test_ranking_dedupes_puts_valid_first_then_score():
    candidates = [
        Candidate("ls -l |", -0.01),  # best score but broken
        Candidate("ls  -la", -0.5),
        Candidate("ls -la", -0.2),  # same normal form as above, better score: kept
        Candidate("find . -type f", -0.3),
        Candidate("rm -rf /", -0.4),
    ]
    ranked = rank(candidates, "bash")
    assert [c.code for c in ranked] == ["ls -la", "find . -type f", "rm -rf /", "ls -l |"]
    assert [c.valid for c in ranked] == [True, True, True, False]
    assert ranked[2].risks == ["recursive delete of /"]
    assert ranked[3].check.startswith("syntax error")


def test_ranking_puts_lower_groups_first_whatever_their_score():
    candidates = [
        Candidate("find . -type f", -0.1, group=1),  # written from the second program: after group 0
        Candidate("ls -la", -0.9),
        Candidate("ls -l |", -0.5),  # group 0 but broken: still after every valid one
        Candidate("ls  -la", -0.01, group=2),  # the same program from a farther group: the group-0 copy is kept
        Candidate("du -sh .", -0.3, group=1),
    ]
    ranked = rank(candidates, "bash")
    assert [(c.code, c.score) for c in ranked] == [("ls -la", -0.9), ("find . -type f", -0.1), ("du -sh .", -0.3),
                                                  ("ls -l |", -0.5)]


def test_ranking_merges_python_forms():
    ranked = rank([Candidate("x [::-1]", -0.3), Candidate("x[::-1]", -0.1), Candidate("x[::-", -0.05)], "python")
    assert [(c.code, c.valid) for c in ranked] == [("x[::-1]", True), ("x[::-", False)]


def test_every_language_is_one_module_with_the_whole_protocol():
    from typing import get_type_hints

    from cfgen.languages import Language, language_names

    wanted = set(get_type_hints(Language)) | {"check", "normalise", "matches", "risks"}
    for name in language_names():
        language = get_language(name)
        assert language.name == name and not wanted - set(dir(language)), (name, wanted - set(dir(language)))
        assert 2 <= language.sample_length and language.metric and language.benchmark_file.endswith(".json")
    assert callable(get_language("cf").ground_rows)  # a language whose requests carry tables grounds in them


@pytest.mark.parametrize("name", language_names())
def test_every_language_keeps_the_contract_on_real_broken_and_hostile_code(name):
    """What every caller relies on, run on each language: a broken program fails its check with a reason; empty,
    over-long, unprintable and non-UTF-8 input fails it without raising; the normal form is a fixed point and the
    metric accepts the gold; risks is a list."""
    from cfgen.languages import MAX_CODE_CHARS

    language = get_language(name)
    good, broken = language.examples
    assert language.check(good) == (True, "ok")
    valid, reason = language.check(broken)
    assert not valid and reason
    for hostile in ("", "   ", "x" * (MAX_CODE_CHARS + 1), good + "\x1b[2J", b"\xff\xfe", good + "\u202e"):
        assert language.check(hostile)[0] is False, hostile[:20]
    assert language.normalise(language.normalise(good)) == language.normalise(good)
    assert language.matches(good, good, [["a"], ["150"], ["50"]] if language.tables else None)
    assert isinstance(language.risks(good), list)


@pytest.mark.parametrize("name", ["cobol", "", "BASHX", "x" * 500])
def test_an_unknown_language_is_one_clear_error_wherever_it_is_named(name):
    from cfgen.errors import DataError, UsageError
    from cfgen.languages import check_language

    for error in (ValueError, UsageError, DataError):
        with pytest.raises(error, match="choose one of bash, python, cf") as raised:
            check_language(name, error)
        assert len(str(raised.value)) < 120
    assert check_language("cf") == "cf" and check_language("Python") == "python"  # any case names a language
    assert get_language("BASH").name == "bash"


TOY_LANGUAGE = '''
import types
from cfgen.languages import register
toy = types.ModuleType("toy_language")
toy.__dict__.update(name="toy", metric="exact", lexer="text", benchmark_file="Toy.json", snippet_file=None,
                    masked_retrieval=False, sample_length=16, value_slots=False, tables=False,
                    check=lambda code: (True, "ok"), normalise=str.strip, matches=lambda p, g, c=None: p == g,
                    risks=lambda code: [])
register(toy)
from typer.testing import CliRunner
from cfgen.commands.app import app
bash = CliRunner().invoke(app, ["generate", "count the lines in file.txt", "--lang", "bash"])
toy_answer = CliRunner().invoke(app, ["generate", "say hello", "--lang", "toy"])
import json
print(json.dumps([bash.exit_code, bash.stdout.strip(), toy_answer.exit_code, toy_answer.stderr.strip()]))
'''


@pytest.mark.bundled
def test_a_fourth_language_leaves_the_bundled_model_loading_and_is_refused_by_it_in_one_line():
    """A language added to cfgen (a toy module here) is one the bundled model does not write: it still loads and
    answers its own languages, and a request in the new one is exit 2 naming what it writes."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", TOY_LANGUAGE], capture_output=True, text=True, timeout=300)
    import json

    bash_code, bash_answer, toy_code, toy_message = json.loads(result.stdout.strip().splitlines()[-1])
    assert bash_code == 0 and bash_answer, result.stdout + result.stderr
    assert toy_code == 2 and "does not write toy" in toy_message and "bash, python, cf" in toy_message


TOY_MODULE = '''"""A toy language: programs are words joined by dashes."""
import re

name = "toy"
position = 50
examples = ("say-hello", "say hello!")
metric, lexer, benchmark_file, snippet_file = "exact match", "text", "Toy.json", None
masked_retrieval, sample_length, value_slots, tables = False, 12, False, False


def check(code):
    return (True, "ok") if re.fullmatch(r"[a-z]+(-[a-z]+)*", code) else (False, "not dash-joined words")


def normalise(code):
    return code.strip()


def matches(prediction, gold, context=None):
    return normalise(prediction) == normalise(gold)


def risks(code):
    return []
'''
TOY_PAIRS = [("greet the world", "say-hello"), ("wave goodbye to everyone", "wave-bye"),
             ("count to three slowly", "count-one-two-three"), ("sing a song", "sing-la-la")]
ANSWER_IN_TOY = '''
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
from cfgen.languages import register
register(importlib.import_module("toy"))
from typer.testing import CliRunner
from cfgen.commands.app import app
from cfgen.training.train import run_training
sys.path.insert(0, sys.argv[2])
from conftest import tiny_request
run_training(tiny_request(__import__("pathlib").Path(sys.argv[3]), __import__("pathlib").Path(sys.argv[4]), steps=150))
answer = CliRunner().invoke(app, ["generate", "wave goodbye to everyone", "--lang", "toy", "--model", sys.argv[3],
                                  "--json", "-n", "3"])
print(json.dumps([answer.exit_code, answer.stdout]))
'''


@pytest.mark.trains
def test_a_toy_language_is_one_module_that_trains_answers_and_keeps_the_contract(tmp_path):
    """Adding a language is one module: registered at run time, a tiny model trains on its pairs and the CLI
    answers in it with a program that passes its check; nothing else in cfgen is told about it."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    (tmp_path / "plugin").mkdir()
    (tmp_path / "plugin" / "toy.py").write_text(TOY_MODULE)
    pairs = tmp_path / "toy.jsonl"
    pairs.write_text("".join(json.dumps({"nl": nl, "code": code, "lang": "toy"}) + "\n" for nl, code in TOY_PAIRS))
    result = subprocess.run([sys.executable, "-c", ANSWER_IN_TOY, str(tmp_path / "plugin"), str(Path(__file__).parent),
                             str(tmp_path / "model"), str(pairs)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    exit_code, stdout = json.loads(result.stdout.strip().splitlines()[-1])
    assert exit_code == 0, stdout
    codes = [candidate["code"] for candidate in json.loads(stdout)["candidates"]]
    assert codes and all(code in {code for _, code in TOY_PAIRS} or "-" in code for code in codes)
    assert codes[0] == "wave-bye"  # the nearest training program at least, as every language gets

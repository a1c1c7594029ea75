import subprocess
import sys


def test_import_cfgen_does_not_import_torch():
    code = "import sys, cfgen, cfgen.config, cfgen.data, cfgen.tokenizer, cfgen.cli; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_help_does_not_import_torch():
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom cfgen.cli import app\n"
        "r = CliRunner().invoke(app, ['--help'])\nassert r.exit_code == 0, r.output\nprint('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_a_cold_answer_loads_neither_sympy_nor_the_compiler():
    # A key padding mask in torch's attention, or a `normal_` on the meta device, pulls in sympy or
    # torch._dynamo: a second or more of every cold start, for nothing cfgen uses.
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom cfgen.cli import app\n"
        "for lang, query in (('cf', 'highlight cells greater than 5'), ('bash', 'list files')):\n"
        "    r = CliRunner().invoke(app, ['generate', query, '--lang', lang])\n    assert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in ('sympy', 'torch._dynamo', 'transformers') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"

import subprocess
import sys


def test_import_cfgen_does_not_import_torch():
    code = "import sys, cfgen, cfgen.config, cfgen.training.data, cfgen.tokenizer, cfgen.commands.app; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_help_does_not_import_torch():
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom cfgen.commands.app import app\n"
        "r = CliRunner().invoke(app, ['--help'])\nassert r.exit_code == 0, r.output\nprint('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_a_cold_answer_loads_neither_sympy_nor_the_compiler():
    # A key padding mask in torch's attention, or a `normal_` on the meta device, pulls in sympy or
    # torch._dynamo: a second or more of every cold start, for nothing cfgen uses.
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom cfgen.commands.app import app\n"
        "for lang, query in (('cf', 'highlight cells greater than 5'), ('bash', 'list files')):\n"
        "    r = CliRunner().invoke(app, ['generate', query, '--lang', lang])\n    assert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in ('sympy', 'torch._dynamo', 'transformers') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def _import_graph() -> dict[str, set[str]]:
    """cfgen's modules and the cfgen modules each imports, at module level or inside a function."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    modules = {}
    for path in (root / "cfgen").rglob("*.py"):
        name = ".".join(path.relative_to(root).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("cfgen"):
                targets = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            graph[name] |= {target for target in targets if target in modules and target != name}
    return graph


def _a_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of the graph (its modules in order), or None."""
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> list[str] | None:
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                return path[path.index(target):] + [target]
            if target not in state and (found := visit(target, path + [target])):
                return found
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module, [module])):
            return found
    return None


def test_no_module_imports_itself_round_a_circle_even_inside_a_function():
    assert _a_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]  # the finder finds one
    assert _a_circle(_import_graph()) is None

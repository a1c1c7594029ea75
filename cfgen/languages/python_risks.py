"""Risk flags for Python candidates: shell commands, deletions, code run from text. Nothing is ever executed.

Read from the syntax tree (`ast`), so `os . system (…)`, `import os as o; o.system(…)`,
`__import__("os").system(…)` and `getattr(os, "system")(…)` are seen alike: a call is judged by the last name of
what it calls. A call whose name is built at run time (`getattr(m, "sys" + "tem")`, `__import__(name)`,
`globals()["eval"]`) cannot be judged by its name and is flagged as such.
"""

from __future__ import annotations

import ast
import warnings

from cfgen.languages import MAX_CODE_CHARS, as_text

RUNS_A_SHELL = {"system", "popen", "getoutput", "getstatusoutput", "spawnl", "spawnlp", "execl", "execlp", "execv",
                "execvp"}  # os.*, commands.*, subprocess.getoutput
SUBPROCESS = {"run", "call", "check_call", "check_output", "Popen"}
DELETES_TREES = {"rmtree"}  # shutil.rmtree
DELETES_FILES = {"unlink", "rmdir", "removedirs"}  # os.*, pathlib.Path.unlink/rmdir
OS_DELETES_FILES = {"remove"}  # os.remove (a list's .remove deletes no file)
RUNS_TEXT = {"eval", "exec"}
BROAD_PATHS = {"/", "~", ".", "..", "/home", "/usr", "/etc", "/var", "/root", "*"}


def risks(code: str) -> list[str]:
    """Flags for a Python snippet's dangerous calls, in the order they occur; [] for code that does not parse."""
    code = as_text(code)
    if not code.strip() or len(code) > MAX_CODE_CHARS:
        return []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    flags = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            flags += _call_risks(node)
    return list(dict.fromkeys(flags))


def _call_risks(call: ast.Call) -> list[str]:
    name = _called_name(call.func)
    dynamic = _dynamic_risks(call, name)
    if dynamic:
        return dynamic
    if _is_getattr(call.func):  # getattr(os, "system")(…): judged by the name it looks up
        name = call.func.args[1].value
    if name in RUNS_A_SHELL:
        return ["runs a shell command"]
    if name in SUBPROCESS and any(k.arg == "shell" and _truthy(k.value) for k in call.keywords):
        return ["runs a shell command (shell=True)"]
    if name in DELETES_TREES:
        broad = _literal_path(call)
        return [f"recursive delete of {broad}" if broad in BROAD_PATHS else "deletes a directory tree"]
    if name in DELETES_FILES or (name in OS_DELETES_FILES and _receiver(call.func) == "os"):
        return ["deletes files"]
    if name in RUNS_TEXT and (isinstance(call.func, ast.Name) or _is_getattr(call.func)):
        return ["runs text as Python code (eval/exec)"]
    return []


def _dynamic_risks(call: ast.Call, name: str) -> list[str]:
    """What is called or imported is named at run time: `getattr(m, 'sys' + 'tem')(…)`, `__import__(name)`,
    `globals()['eval'](…)`, `import_module(x)`: the name cannot be read, so the call is flagged as unknown."""
    if name in ("__import__", "import_module") and not _constant_text(call.args[0] if call.args else None):
        return ["imports a module named at run time"]
    if isinstance(call.func, ast.Call) and _called_name(call.func.func) == "getattr" and not _is_getattr(call.func):
        return ["calls a name looked up at run time (getattr)"]
    if isinstance(call.func, ast.Subscript):
        return ["calls something looked up at run time"]
    if name in ("compile",) and isinstance(call.func, ast.Name):
        return ["runs text as Python code (compile)"]
    return []


def _is_getattr(func: ast.expr) -> bool:
    """`getattr(x, "name")`, the name a constant."""
    return isinstance(func, ast.Call) and _called_name(func.func) == "getattr" and len(func.args) >= 2 and \
        _constant_text(func.args[1])


def _constant_text(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _called_name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _receiver(func: ast.expr) -> str:
    """`os` for os.remove: the name the called attribute is looked up on."""
    value = func.value if isinstance(func, ast.Attribute) else None
    return value.id if isinstance(value, ast.Name) else ""


def _truthy(value: ast.expr) -> bool:
    return not (isinstance(value, ast.Constant) and not value.value)


def _literal_path(call: ast.Call) -> str | None:
    first = call.args[0] if call.args else None
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value.rstrip("/") or "/"
    if isinstance(first, ast.Call) and _called_name(first.func) == "expanduser":  # os.path.expanduser("~")
        return _literal_path(first)
    return None

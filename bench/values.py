"""Values metric on Bash and Python dev: how often the first answer holds a value nobody asked for, and how often
it is a right answer whole (template and values).

    python bench/values.py [--data ../shared/data/codefusion] [--model SPEC] [--limit N] [--lang bash|python]

Bash: a value of the first answer (an argument of its template, bash_template.py) is "from nowhere" when neither
the request says it nor the right answer holds it, and it is no closed word (`.`, `{}`, …), no visible
`{{placeholder}}` and no program text (an awk or sed program, an expansion, a utility's name that `xargs` or
`-exec` runs). Whole match: the answer's template and values equal the right answer's.
Python: the values of a snippet are its string literals, its numbers other than the small integers an index or
a step uses (-10 to 10), and its free names (a variable the snippet reads and does not bind, no builtin and no
module); one is from nowhere when the request does not say it (a string as text, a name or number as a word)
and the right answer does not hold it. Whole match: the normal forms are equal (the benchmark's exact match).
Both are measured for cfgen as it answers and without the request's values put in (Bash: the filler,
bash_grounding.py; Python: value slots), in one run. Prints a table and writes bench/results/values.json.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def nowhere_values(answer: str, request: str, gold: str) -> list[str]:
    """The answer's values that neither the request nor the right answer holds."""
    from cfgen.languages.bash_template import template

    made = template(answer)
    if made is None:
        return []
    right = template(gold)
    right_values = {v.strip("'\"") for v in (right.values if right else [])} | set(gold.split())
    return [value for value in made.values
            if not re.fullmatch(r"\{\{.*\}\}", value) and value.strip("'\"") not in right_values
            and value.strip("'\"").lower() not in request.lower() and not _program_text(value)]


def _program_text(value: str) -> bool:
    """Code, not a value: an embedded program (`'{print $1}'`, `'s/a/b/'`), an expansion, or a utility's name
    (what `xargs` or `-exec` runs)."""
    from cfgen.languages.bash_installed import installed

    return bool(_CODE.search(value)) or installed(value)


_CODE = re.compile(r"[{}$\\|;()<>=\[\]]|^'s[/|#]")


def python_values(code: str) -> set[tuple[str, str]] | None:
    """The snippet's values (see the module's contract) as (kind, text), kind "name", "text" or "number"; None
    where it does not parse."""
    import ast
    import builtins
    import sys

    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):
        return None
    bound = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load)}
    bound |= {arg.arg for node in ast.walk(tree) if isinstance(node, ast.arguments)
              for arg in node.posonlyargs + node.args + node.kwonlyargs + [node.vararg, node.kwarg] if arg}
    modules = set(sys.stdlib_module_names) | _MODULE_ALIASES
    values = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in bound \
                and node.id not in modules and not hasattr(builtins, node.id):
            values.add(("name", node.id))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip():
            values.add(("text", node.value))
        elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
                and not isinstance(node.value, bool) and not -10 <= node.value <= 10:
            values.add(("number", ast.get_source_segment(code, node) or repr(node.value)))  # 0xff as written
    return values


_MODULE_ALIASES = {"np", "pd", "plt", "tf", "torch", "numpy", "pandas", "scipy", "sklearn", "requests", "bs4",
                   "BeautifulSoup", "matplotlib", "django", "flask", "yaml", "lxml", "urllib2", "mechanize", "xlrd",
                   "openpyxl", "PIL", "Image", "cv2", "sp", "sns", "nltk"}


def python_nowhere_values(answer: str, request: str, gold: str) -> list[str]:
    """The answer's Python values that neither the request says nor the right answer holds."""
    made = python_values(answer)
    if not made:
        return []
    right = {text for _, text in python_values(gold) or set()}
    words = set(re.findall(r"[\w.]+", request)) | set(re.findall(r"\w+", request))
    return sorted(text for kind, text in made
                  if text not in right and (text not in request if kind == "text" else text not in words))


def whole_match(answer: str, gold: str) -> bool:
    from cfgen.languages.bash_template import template

    made, right = template(answer), template(gold)
    if made is None or right is None:
        return " ".join(answer.split()) == " ".join(gold.split())
    return made.tokens == right.tokens and [v.strip("'\"") for v in made.values] == \
        [v.strip("'\"") for v in right.values]


def measure(pipeline, items, lang: str) -> dict:
    requests = [item.nl for item in items]
    answers = pipeline(requests, lang, 5)
    firsts = [row[0].code if row else "" for row in answers]
    from cfgen.languages import get_language

    language = get_language(lang)
    if lang == "bash":
        nowhere = [bool(nowhere_values(a, item.nl, item.code)) for a, item in zip(firsts, items)]
        whole = [whole_match(a, item.code) for a, item in zip(firsts, items)]
    else:
        nowhere = [bool(python_nowhere_values(a, item.nl, item.code)) for a, item in zip(firsts, items)]
        whole = [language.matches(a, item.code) for a, item in zip(firsts, items)]
    template_match = [language.matches(a, item.code) for a, item in zip(firsts, items)]
    return {"items": len(items), "value_from_nowhere": sum(nowhere) / len(items), "whole_match": sum(whole) / len(items),
            "template_match_top1": sum(template_match) / len(items)}


def without_grounding():
    """The Bash language without its request-value filler (bash_grounding.settle, 4 programs proposed per
    candidate shown, programs retrieved as written): cfgen as it answered before the filler, for comparison (the
    index then swaps values by `slots.transfer`); returns what puts it back."""
    from cfgen.languages import get_language

    bash = get_language("bash")
    kept = {member: getattr(bash, member) for member in ("settle", "candidate_pool", "fills_values")}
    for member in kept:
        delattr(bash, member)
    return lambda: [setattr(bash, member, value) for member, value in kept.items()]


def without_value_slots():
    """Python without the request's values: retrieved snippets as written (no `slots.transfer`), no value
    slots for a slots model; returns what puts them back."""
    import cfgen.retrieval.index as index
    from cfgen.languages import get_language

    python, transfer = get_language("python"), index.transfer
    python.value_slots, index.transfer = False, lambda code, *_: code

    def restore() -> None:
        python.value_slots, index.transfer = True, transfer

    return restore


WITHOUT = {"bash": ("cfgen without the filler", without_grounding),
           "python": ("cfgen without values", without_value_slots)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "codefusion")
    parser.add_argument("--model", default=None)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--lang", choices=["bash", "python"], action="append",
                        help="a language to measure (again for several; default: both)")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "values.json")
    args = parser.parse_args()
    from cfgen.answering.answer import PipelineLoader
    from cfgen.answering.model_choice import ModelChoice
    from cfgen.training.data import benchmark_path, load_benchmark

    pipeline = PipelineLoader(ModelChoice(args.model, "cpu"))()
    results: dict[str, dict] = {}
    for lang in args.lang or ["bash", "python"]:
        items = load_benchmark(benchmark_path(args.data, lang), "dev", lang)
        items = items[: args.limit] if args.limit else items
        results[lang] = {"cfgen": measure(pipeline, items, lang)}
        label, take_away = WITHOUT[lang]
        restore = take_away()
        try:
            results[lang][label] = measure(pipeline, items, lang)
        finally:
            restore()
    print(f"{'language':<9}{'system':<26}{'items':>6}{'from nowhere':>14}{'whole match':>13}{'template top1':>15}")
    for lang, systems in results.items():
        for system, found in systems.items():
            print(f"{lang:<9}{system:<26}{found['items']:>6}{found['value_from_nowhere']:>14.3f}"
                  f"{found['whole_match']:>13.3f}{found['template_match_top1']:>15.3f}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"model": args.model or "bundled", "languages": results}, indent=1) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()

"""Values metric on Bash dev: how often the first answer holds a value nobody asked for, and how often it is a
right answer whole (template and values).

    python bench/values.py [--data ../shared/data/codefusion] [--model SPEC] [--limit N]

A value of the first answer (an argument of its template, bash_template.py) is "from nowhere" when neither the
request says it nor the right answer holds it, and it is no closed word (`.`, `{}`, …), no visible
`{{placeholder}}` and no program text (an awk or sed program, an expansion, a utility's name that `xargs` or
`-exec` runs). Whole match: the answer's template and values equal the right answer's. Both are measured for
cfgen as it answers and without its Bash request-value filler (bash_grounding.py), in one run. Prints a table and writes bench/results/values.json.
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
    from cfgen.languages.bash_grounding import installed

    return bool(_CODE.search(value)) or installed(value)


_CODE = re.compile(r"[{}$\\|;()<>=\[\]]|^'s[/|#]")


def whole_match(answer: str, gold: str) -> bool:
    from cfgen.languages.bash_template import template

    made, right = template(answer), template(gold)
    if made is None or right is None:
        return " ".join(answer.split()) == " ".join(gold.split())
    return made.tokens == right.tokens and [v.strip("'\"") for v in made.values] == \
        [v.strip("'\"") for v in right.values]


def measure(pipeline, items) -> dict:
    requests = [item.nl for item in items]
    answers = pipeline(requests, "bash", 5)
    firsts = [row[0].code if row else "" for row in answers]
    nowhere = [bool(nowhere_values(a, item.nl, item.code)) for a, item in zip(firsts, items)]
    whole = [whole_match(a, item.code) for a, item in zip(firsts, items)]
    from cfgen.languages import get_language

    template_match = [get_language("bash").matches(a, item.code) for a, item in zip(firsts, items)]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "codefusion")
    parser.add_argument("--model", default=None)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "values.json")
    args = parser.parse_args()
    from cfgen.answering.answer import PipelineLoader
    from cfgen.answering.model_choice import ModelChoice
    from cfgen.training.data import benchmark_path, load_benchmark

    items = load_benchmark(benchmark_path(args.data, "bash"), "dev", "bash")
    items = items[: args.limit] if args.limit else items
    pipeline = PipelineLoader(ModelChoice(args.model, "cpu"))()
    results = {"cfgen": measure(pipeline, items)}
    restore = without_grounding()
    try:
        results["cfgen without the filler"] = measure(pipeline, items)
    finally:
        restore()
    print(f"{'system':<22}{'items':>6}{'from nowhere':>14}{'whole match':>13}{'template top1':>15}")
    for system, found in results.items():
        print(f"{system:<22}{found['items']:>6}{found['value_from_nowhere']:>14.3f}{found['whole_match']:>13.3f}"
              f"{found['template_match_top1']:>15.3f}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"model": args.model or "bundled", "systems": results}, indent=1) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()

"""Execution bench: everyday Bash tasks (tasks.py), each answered and judged by running the answer in a sandbox.

    python bench/exec/run.py [--model SPEC] [--limit N] [--jobs 4] [--output bench/results/exec.json]
                             [--network SPEC]

For every task, cfgen's five candidates, the plain nearest training program (the program of the most similar
training request, its values as they were) and cfgen without its request-value filler run on the task's setup in a bubblewrap sandbox (sandbox.py); a
candidate passes when the task's check holds after it. Prints pass@1 and pass@5 per system and per area, and
writes them with every task's answers to JSON. `--network SPEC` (a model trained with `--templates`) adds its
templates beside the retrieved ones, all through the same filler: the network's own candidates alone, the
network's then the retrieved programs (as that model ranks them), and cfgen's retrieved answers then the
network's (each list's order kept, duplicates dropped). Needs `bwrap` (apt-get install bubblewrap); never run as a way to
execute cfgen's output anywhere else.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import sandbox  # noqa: E402
from tasks import TASKS, Task  # noqa: E402

ROOT = HERE.parents[1]
SHOWN = 5


def cfgen_answers(pipeline, requests: list[str], strength: float | None = None,
                  sources: tuple[str, ...] = ()) -> list[list[str]]:
    """cfgen's valid candidates per request, best first, as `cfgen "…" --lang bash` ranks them (only those made
    by `sources` where given: "generated" keeps a network's own)."""
    ranked = pipeline(requests, "bash", SHOWN * 3 if sources else SHOWN, strength=strength)
    return [[c.code for c in row if c.valid and (not sources or c.source in sources)][:SHOWN] for row in ranked]


def network_systems(spec: str, requests: list[str], retrieved: list[list[str]]) -> dict[str, list[list[str]]]:
    """A templates network's answers as systems beside `retrieved` (cfgen's own answers): see the module's text."""
    from cfgen.answering.answer import PipelineLoader
    from cfgen.answering.model_choice import ModelChoice

    network = PipelineLoader(ModelChoice(spec, "cpu"))()
    if not network.network.config.templates:
        sys.exit(f"--network {spec}: not a templates model (cfgen train --templates)")
    both = cfgen_answers(network, requests, strength=1.0)
    own = cfgen_answers(network, requests, strength=1.0, sources=("generated",))
    merged = [list(dict.fromkeys(first + second))[:SHOWN] for first, second in zip(retrieved, own)]
    return {"network templates": own, "network, then retrieved": both, "retrieved, then network": merged}


def nearest_programs(pipeline, requests: list[str]) -> list[list[str]]:
    """The nearest training program per request, values as the training data has them (no transfer)."""
    encodings = pipeline.encoder.encode(requests)
    found = pipeline.index.neighbours(encodings, "bash", 1)
    return [[code for code, _, _ in row] for row in found]


def judged(tasks: list[Task], answers: list[list[str]], jobs: int) -> list[list[bool]]:
    """For each task, whether each of its answers passes its check."""
    work = [(t, command) for t, row in zip(tasks, answers) for command in row]
    with ThreadPoolExecutor(jobs) as pool:
        results = iter(pool.map(lambda item: sandbox.passes(item[0].setup, item[1], item[0].check), work))
    return [[next(results) for _ in row] for row in answers]


def pass_at(passed: list[list[bool]], k: int) -> float:
    return sum(any(row[:k]) for row in passed) / max(len(passed), 1)


def figures(tasks: list[Task], passed: list[list[bool]]) -> dict:
    areas = sorted({t.area for t in tasks})
    by_area = {area: [p for t, p in zip(tasks, passed) if t.area == area] for area in areas}
    return {"pass@1": pass_at(passed, 1), "pass@5": pass_at(passed, 5), "tasks": len(tasks),
            "areas": {area: {"pass@1": pass_at(rows, 1), "pass@5": pass_at(rows, 5), "tasks": len(rows)}
                      for area, rows in by_area.items()}}


def print_table(results: dict) -> None:
    areas = sorted(next(iter(results.values()))["areas"])
    print(f"{'system':<26}{'pass@1':>8}{'pass@5':>8}" + "".join(f"{a[:11]:>12}" for a in areas))
    for system, found in results.items():
        cells = "".join(f"{found['areas'][a]['pass@1']:>12.2f}" for a in areas)
        print(f"{system:<26}{found['pass@1']:>8.3f}{found['pass@5']:>8.3f}{cells}")
    print(f"({next(iter(results.values()))['tasks']} tasks; per-area columns are pass@1)")


def check_references(jobs: int) -> int:
    """0 when every reference passes its task and `true` (doing nothing) passes none; else 1, naming them."""
    from references import REFERENCES

    failing = [t.request for t, [p] in zip(TASKS, judged(TASKS, [[REFERENCES[t.request]] for t in TASKS], jobs)) if not p]
    idle = [t.request for t, [p] in zip(TASKS, judged(TASKS, [["true"]] * len(TASKS), jobs)) if p]
    print(f"{len(TASKS)} tasks: {len(failing)} references fail {failing}; {len(idle)} pass doing nothing {idle}")
    return int(bool(failing or idle))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model spec (default: the bundled model)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N tasks (0: all)")
    parser.add_argument("--jobs", type=int, default=4, help="sandboxes run at once")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "exec.json")
    parser.add_argument("--references", action="store_true",
                        help="check the bench itself: every task's reference passes and doing nothing fails")
    parser.add_argument("--cfgen-only", action="store_true", help="judge cfgen alone (no comparison systems)")
    parser.add_argument("--network", default=None,
                        help="a templates model whose network's answers to judge beside cfgen's (issue 45 part 6)")
    args = parser.parse_args()
    if not sandbox.available():
        sys.exit("bench/exec needs bubblewrap that can make a sandbox here: apt-get install bubblewrap")
    if args.references:
        sys.exit(check_references(args.jobs))
    from cfgen.answering.answer import PipelineLoader
    from cfgen.answering.model_choice import ModelChoice

    pipeline = PipelineLoader(ModelChoice(args.model, "cpu"))()
    tasks = TASKS[: args.limit] if args.limit else TASKS
    requests = [t.request for t in tasks]
    systems = {"cfgen": cfgen_answers(pipeline, requests)}
    if args.network:
        systems.update(network_systems(args.network, requests, systems["cfgen"]))
    if not args.cfgen_only:
        systems["nearest program"] = nearest_programs(pipeline, requests)
        sys.path.insert(0, str(ROOT / "bench"))
        from values import without_grounding

        restore = without_grounding()
        try:
            systems["cfgen without the filler"] = cfgen_answers(pipeline, requests)
        finally:
            restore()
    results, items = {}, []
    for system, answers in systems.items():
        passed = judged(tasks, answers, args.jobs)
        results[system] = figures(tasks, passed)
        items += [{"system": system, "request": t.request, "answers": row, "passed": p}
                  for t, row, p in zip(tasks, answers, passed)]
    print_table(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"model": args.model or "bundled", "systems": results}, indent=1) + "\n")
    args.output.with_suffix(".items.json").write_text(json.dumps(items, indent=1) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()

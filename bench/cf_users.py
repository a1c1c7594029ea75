"""CF as users write it: requests that name a column, quote text or combine conditions, on small tables.

    python bench/cf_users.py [--model SPEC] [-n 5] [--steps 20]

The hand-written requests of bench/data/cf_user_requests.json (66; each with its kind) are answered
as `cfgen "…" --lang cf --table T.csv` answers them (rules grounded in the
column the request names), and a candidate counts when it selects exactly the
gold rule's rows (execution match). Printed for the model's default strength
and for retrieval alone (strength 0), beside nothing else: the CF dev split
(bench/quality.py) uses the implicit-column dialect only. Writes
bench/results/cf_users.json.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from cfgen.answering.answer import Request, Settings, answer_all
from cfgen.model_files.hub import default_model_directory, resolve_model_directory
from cfgen.languages import cf
from cfgen.languages.cf_values import unasked_texts
from cfgen.pipeline import DEFAULT_STEPS, Pipeline

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data" / "cf_user_requests.json"
CUTOFFS = (1, 3, 5)


def selected_rows(rule: str, table: list) -> list[int] | None:
    try:
        return [i + 1 for i, hit in enumerate(cf.execute(rule, table)) if hit]
    except cf.CFError:
        return None


def score(pipeline: Pipeline, items: list[dict], tables: dict, n: int, steps: int, strength: float | None) -> dict:
    requests = [Request(item["nl"], "cf", tables[item["table"]], line) for line, item in enumerate(items, start=1)]
    answers = answer_all(pipeline, requests, Settings(shown=n, steps=steps, strength=strength))
    per_item = []
    for item, answer in zip(items, answers):
        hits = [rows == item["rows"] for rows in answer.rows]
        top = answer.candidates[0].code if answer.candidates else ""
        per_item.append({"nl": item["nl"], "kind": item.get("kind", "original"), "gold": item["gold"],
                         "unasked_top1": bool(unasked_texts(top, item["nl"], tables[item["table"]])),
                         "candidates": [c.code for c in answer.candidates],
                         "hit": [any(hits[:k]) for k in CUTOFFS], "valid_top1": bool(answer.candidates)
                         and answer.candidates[0].valid, "source_top1": answer.candidates[0].source
                         if answer.candidates else None})
    count = len(per_item)
    figures = {f"top{k}": sum(r["hit"][i] for r in per_item) / count for i, k in enumerate(CUTOFFS)}
    figures["valid_top1"] = sum(r["valid_top1"] for r in per_item) / count
    figures["sources_top1"] = dict(Counter(r["source_top1"] for r in per_item))
    figures["unasked_top1"] = sum(r["unasked_top1"] for r in per_item) / count
    kinds = dict.fromkeys(r["kind"] for r in per_item)
    figures["top1_by_kind"] = {kind: sum(r["hit"][0] for r in per_item if r["kind"] == kind)
                               / sum(r["kind"] == kind for r in per_item) for kind in kinds}
    return {"figures": figures, "items": per_item}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model spec (default: the bundled model)")
    parser.add_argument("-n", type=int, default=5)
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "cf_users.json")
    args = parser.parse_args()

    data = json.loads(DATA.read_text(encoding="utf-8"))
    for item in data["items"]:  # the gold rules themselves must select what the file says
        assert selected_rows(item["gold"], data["tables"][item["table"]]) == item["rows"], item
    directory = resolve_model_directory(args.model) if args.model else default_model_directory()
    pipeline = Pipeline.from_directory(directory)
    results = {}
    for name, strength in (("cfgen (default strength)", None), ("retrieval only (strength 0)", 0.0)):
        results[name] = score(pipeline, data["items"], data["tables"], args.n, args.steps, strength)

    print(f"CF requests as users write them: {len(data['items'])} items, model {directory}, execution match")
    print(f"{'system':<30}" + "".join(f"{f'top-{k}':>8}" for k in CUTOFFS) + f"{'valid':>8}{'unasked text':>13}"
          "  top-1 sources")
    for name, result in results.items():
        figures = result["figures"]
        print(f"{name:<30}" + "".join(f"{figures[f'top{k}']:>8.3f}" for k in CUTOFFS)
              + f"{figures['valid_top1']:>8.3f}{figures['unasked_top1']:>13.3f}  {figures['sources_top1']}")
    for name, result in results.items():
        by_kind = ", ".join(f"{kind} {share:.2f}" for kind, share in result["figures"]["top1_by_kind"].items())
        print(f"top-1 by kind, {name}: {by_kind}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"model": str(directory), "steps": args.steps, "candidates": args.n,
                                       "figures": {name: r["figures"] for name, r in results.items()}}, indent=1))
    args.output.with_suffix(".items.json").write_text(json.dumps(results, indent=1))  # per item: not tracked


if __name__ == "__main__":
    main()

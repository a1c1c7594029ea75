"""The models `cfgen models` lists: the bundled one, those in the Hugging Face cache (cfgen's layout), and runs
of `cfgen train`, each by the name `--model` accepts."""

from __future__ import annotations

from cfgen.model_files.bundle import CONFIG, TOKENIZER, model_size_mb
from cfgen.model_files.hub import bundled_directory
from cfgen.model_files.paths import BUNDLED_NAME, runs_directory


def list_models() -> list[dict]:
    """Bundled, cached (HF cache, cfgen layout only) and locally trained models."""
    found = []
    if (bundled_directory() / CONFIG).is_file():
        found.append(dict(name=BUNDLED_NAME, source="bundled", revision="-", size_mb=model_size_mb(bundled_directory()),
                          path=str(bundled_directory())))
    try:
        from huggingface_hub import scan_cache_dir

        cache = scan_cache_dir()
        repos = sorted(cache.repos, key=lambda r: r.repo_id)
    except Exception:  # no cache yet, or unreadable: nothing cached to list
        repos = []
    for repo in repos:
        if repo.repo_type != "model":
            continue
        for revision in sorted(repo.revisions, key=lambda r: r.commit_hash):
            names = {f.file_name for f in revision.files}
            if {CONFIG, TOKENIZER} <= names:
                refs = ",".join(sorted(revision.refs)) or "-"
                found.append(
                    dict(
                        name=repo.repo_id,
                        source="hub cache",
                        revision=f"{revision.commit_hash[:12]} ({refs})",
                        size_mb=revision.size_on_disk / 1e6,
                        path=str(revision.snapshot_path),
                    )
                )
    runs = runs_directory()
    for run in sorted(runs.iterdir()) if runs.is_dir() else []:
        if (run / CONFIG).is_file():
            found.append(dict(name=run.name, source="trained", revision="-", size_mb=model_size_mb(run), path=str(run)))
    return found

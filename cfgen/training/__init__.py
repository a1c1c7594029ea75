"""Training: data files and corpora, a run prepared, the loop, checkpoints and resume, the index a run builds."""

"""Progress on stderr while cfgen works: a bar on a terminal, sparse log lines otherwise."""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

from cfgen.answering.render import info, stderr


@contextlib.contextmanager
def training_progress(total: int) -> Iterator[Callable]:
    """A progress bar on a terminal, a log line every 50 steps otherwise; yields the per-step callback."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = [
        TextColumn("[bold]training"), BarColumn(), MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}"), TextColumn("dev {task.fields[dev]}"),
        TextColumn("{task.fields[rate]} tok/s"), TimeRemainingColumn(),
    ]
    with Progress(*columns, console=stderr, disable=not stderr.is_terminal) as progress:
        task = progress.add_task("train", total=total, loss="-", dev="-", rate="-")
        last_dev = ["-"]

        def on_step(report) -> None:
            if report.dev_loss is not None:
                last_dev[0] = f"{report.dev_loss:.3f}"
            if not stderr.is_terminal and (report.dev_loss is not None or report.step % 50 == 0):
                info(f"step {report.step}/{report.total} loss {report.loss:.4f} dev {last_dev[0]} "
                     f"{report.tokens_per_second:,.0f} tok/s")
            progress.update(task, completed=report.step, loss=f"{report.loss:.3f}", dev=last_dev[0],
                            rate=f"{report.tokens_per_second:,.0f}")

        yield on_step


@contextlib.contextmanager
def counting(description: str, total: int, show: bool = True) -> Iterator[Callable[[int], None]]:
    """A transient progress bar on a terminal; yields advance(k)."""
    from rich.progress import Progress

    with Progress(console=stderr, disable=not (show and stderr.is_terminal), transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda k: progress.advance(task, k)

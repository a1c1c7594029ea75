"""`cfgen serve`: keep a model loaded and answer this user's requests over a Unix socket (answerer.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from cfgen.answering.answerer_socket import IDLE_MINUTES_DEFAULT, IDLE_MINUTES_VARIABLE
from cfgen.commands.options import AllowUnverified, Device, Model, Platform
from cfgen.answering.render import note

IdleMinutes = Annotated[float, typer.Option(
    min=0.05, max=7 * 24 * 60,
    help=f"Exit after this many minutes without a request (the shell widget starts one with ${IDLE_MINUTES_VARIABLE} "
         f"if set).")]
Stop = Annotated[bool, typer.Option("--stop", help="Stop the answerer of these model settings, if one runs.")]
Status = Annotated[bool, typer.Option(
    "--status", help="Say whether an answerer of these model settings runs (exit 0) or not (exit 1).")]


def serve(
    model: Model = None,
    device: Device = "auto",
    allow_unverified: AllowUnverified = False,
    platform: Platform = None,
    idle_minutes: IdleMinutes = IDLE_MINUTES_DEFAULT,
    stop: Stop = False,
    status: Status = False,
) -> None:
    """Keep the model loaded and answer requests warm: `cfgen "…"` and the shell widget use it when it runs.

    One answerer per user and model; it listens on a socket only its user can reach, exits after
    --idle-minutes without a request, on SIGTERM or on --stop, and removes its socket.
    """
    from cfgen.answering.answerer_socket import AnswererGone, ask, connect
    from cfgen.answering.model_choice import ModelChoice
    from cfgen.answering.wire import PING, STOP, operation_message

    choice = ModelChoice(model, device, not allow_unverified, platform)
    key = choice.answerer_key
    if stop or status:
        connection = connect(key)
        reply = None
        if connection is not None:
            try:
                reply = ask(connection, operation_message(STOP if stop else PING), timeout=10)
            except AnswererGone:
                reply = None
        if reply is None:
            note("no answerer runs for these model settings")
            raise typer.Exit(0 if stop else 1)
        note(f"answerer (pid {reply.get('pid')}) {'stopped' if stop else 'runs'}")
        return
    _run(choice, idle_minutes)


def _run(choice, idle_minutes: float) -> None:
    from cfgen.answering.answer import PipelineLoader
    from cfgen.answering.answerer import answer_until_idle

    loader = PipelineLoader(choice)
    ready = lambda path: note(f"answering on {path}; exits after {idle_minutes:g} idle minutes")  # noqa: E731
    if not answer_until_idle(loader, choice.answerer_key, idle_minutes, on_ready=ready):
        note("an answerer for these model settings runs already")

"""`cfgen "…"` answered by the warm answerer (`cfgen serve`) when one runs for the same model settings.

Contract: the answers are those this process would make (answer_wire round-trips them exactly); the answerer's
warnings are logged here as if made here; an answerer that stops mid-request, or is gone by the next window,
costs time, not answers: the request is answered in this process instead, with one warning.
"""

from __future__ import annotations

import logging

from cfgen.answering.answer import Answer, LocalAnswerer, PipelineLoader, Request, Settings
from cfgen.answering.wire import answer_from_wire, answer_message, request_to_wire, settings_to_wire
from cfgen.answering.answerer_socket import AnswererGone, answerer_listening, ask, connect
from cfgen.answering.model_choice import ModelChoice
from cfgen.errors import CfgenError

logger = logging.getLogger(__name__)


class AnswererRefused(CfgenError):
    """The answerer answered with a failure: its message and exit code, as if it had happened here."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class RemoteAnswerer:
    """Answers through the answerer of `key`; `local` answers whatever it cannot."""

    def __init__(self, key: str, local: LocalAnswerer) -> None:
        self.key, self.local = key, local
        self.how_by_language: dict[str, str] = {}
        self.gone = False

    def answer(self, requests: list[Request], settings: Settings) -> list[Answer]:
        connection = None if self.gone else connect(self.key)
        if connection is None:
            self.gone = True
            return self.local.answer(requests, settings)
        message = answer_message([request_to_wire(r) for r in requests], settings_to_wire(settings))
        try:
            reply = ask(connection, message)
        except AnswererGone as failure:
            logger.warning("%s; answering here instead", failure)
            self.gone = True
            return self.local.answer(requests, settings)
        if not reply.get("ok"):
            raise AnswererRefused(str(reply.get("error", "the answerer failed"))[:400], int(reply.get("exit", 1)))
        for warning in reply.get("warnings", []):
            logger.warning("%s", warning)
        self.how_by_language.update(reply.get("how", {}))
        return [answer_from_wire(value) for value in reply["answers"]]

    def how(self, lang: str, settings: Settings) -> str:
        if lang in self.how_by_language and not self.gone:
            return self.how_by_language[lang] + " (warm answerer)"
        return self.local.how(lang, settings)


def answerer_for(choice: ModelChoice) -> LocalAnswerer | RemoteAnswerer:
    """The warm answerer for this model choice when one is listening, else this process's pipeline."""
    local = LocalAnswerer(PipelineLoader(choice))
    key = choice.answerer_key
    return RemoteAnswerer(key, local) if answerer_listening(key) else local

"""Which model answers, and how it is loaded: the one object `cfgen generate`, `cfgen serve`, `cfgen eval` and
the warm answerer pass from the command line to the pipeline, whole."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelChoice:
    model: str | None = None  # a directory, a run name or a Hub spec (None: the bundled model)
    device: str = "auto"  # auto, cpu, cuda or cuda:N (runtime.select_device)
    verify: bool = True  # check the weights against their checksums before loading them
    platform: str | None = None  # the platform whose commands rank first (None: this machine's)

    @property
    def answerer_key(self) -> str:
        """Which warm answerer serves this choice (`answerer_socket.key_of`)."""
        from cfgen.answering.answerer_socket import key_of

        return key_of(self.model, self.device, self.verify, self.platform)

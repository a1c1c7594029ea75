"""Run under torchrun by test_distributed: train a few steps, then each rank
writes a digest of its own copy of the weights."""

import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from conftest import tiny_request  # noqa: E402
from cfgen.training.train import run_training  # noqa: E402


def main() -> None:
    import torch.distributed as dist

    output, pairs = Path(sys.argv[1]), Path(sys.argv[2])
    captured = {}
    from cfgen.training import train

    original = train.TrainingLoop.run

    def keep_network(self, *args):
        captured["network"] = self.network
        return original(self, *args)

    train.TrainingLoop.run = keep_network
    run_training(tiny_request(output, pairs, steps=4, checkpoint_every=4))
    digest = hashlib.sha256()
    for name, tensor in sorted(captured["network"].state_dict().items()):
        digest.update(name.encode() + tensor.numpy().tobytes())
    (output / f"rank{dist.get_rank()}.sha256").write_text(digest.hexdigest())
    dist.destroy_process_group()


if __name__ == "__main__":
    main()

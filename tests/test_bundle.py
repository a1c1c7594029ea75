"""The model directory's load path: what it builds, what it reads, what it leaves uninitialised."""

import torch
from torch import nn

from cfgen.model_files.bundle import load_model
from cfgen.model_files.files import module_shapes, uninitialised


def test_modules_built_uninitialised_allocate_nothing_and_run_no_init():
    calls = []
    original = torch.Tensor.normal_

    def counting_normal_(self, *args, **kwargs):
        calls.append(self.shape)
        return original(self, *args, **kwargs)

    torch.Tensor.normal_ = counting_normal_
    try:
        with uninitialised():
            module = nn.Sequential(nn.Embedding(1000, 64), nn.Linear(64, 32), nn.LayerNorm(32))
    finally:
        torch.Tensor.normal_ = original
    assert calls == []
    assert all(parameter.is_meta for parameter in module.parameters())
    assert module_shapes(module) == {"0.weight": (1000, 64), "1.weight": (32, 64), "1.bias": (32,),
                                     "2.weight": (32,), "2.bias": (32,)}
    assert torch.empty(2).device.type == "cpu"  # the mode ends with the block


def test_a_loaded_model_holds_exactly_its_files_weights_in_float32(tiny_model):
    from safetensors.torch import load_file

    network, _ = load_model(tiny_model)
    saved = {}
    for path in sorted(tiny_model.glob("model*.safetensors")):
        saved.update(load_file(str(path)))
    state = network.state_dict()
    assert set(state) == set(saved)
    for name, tensor in state.items():
        assert not tensor.is_meta and tensor.dtype == torch.float32, name
        assert torch.equal(tensor, saved[name].float()), name

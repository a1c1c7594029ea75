"""`cfgen train`'s options are declared once: each parameter that sets a field of TrainRequest or TrainConfig
is named as the field and defaults to the field's default, so that neither can drift from the other."""

import inspect
from dataclasses import MISSING, fields

from cfgen.commands.train import _COMPUTED, train
from cfgen.config import TrainConfig
from cfgen.training.train_request import TrainRequest

# Fields `cfgen train` leaves at their defaults on purpose (tuning knobs kept off the command line).
NOT_OPTIONS = {"weight_decay", "grad_clip"}
# Parameters that set no field of either: they build one (`DataSources`, the output path, --init's directory).
BUILDERS = {"output", "data", "pairs", "unindexed_pairs", "lang", "pages_dev", "max_snippets", "init"}


def _declared() -> dict:
    return {f.name: f for declaration in (TrainRequest, TrainConfig) for f in fields(declaration)}


def test_every_parameter_of_cfgen_train_sets_a_field_of_the_same_name_and_default():
    declared = _declared()
    for name, parameter in inspect.signature(train).parameters.items():
        if name in BUILDERS:
            continue
        assert name in declared, f"cfgen train's --{name} sets no field: it would silently fall back to a default"
        field = declared[name]
        default = field.default if field.default is not MISSING else field.default_factory()
        assert parameter.default == default, f"--{name}: {parameter.default!r} on the CLI, {default!r} in the field"


def test_every_field_is_an_option_of_cfgen_train_or_left_out_on_purpose():
    options = set(inspect.signature(train).parameters)
    missing = set(_declared()) - options - _COMPUTED - NOT_OPTIONS
    assert not missing, f"fields with no cfgen train option: {sorted(missing)}"


def test_the_check_catches_a_drifted_name():
    """What the first test relies on: a parameter named otherwise than its field is not found among the fields."""
    assert "learning_rate" in _declared() and "lr" not in _declared()

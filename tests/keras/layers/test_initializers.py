"""Initializers: tf.keras configs, aliases, statistics and seeding."""

import json
import math

import pytest
import torch

from savedflow.keras import initializers

# get_config() of each class with default arguments, as printed by tf_keras 2.21.
DEFAULT_CONFIGS = {
    "Zeros": {},
    "Ones": {},
    "Constant": {"value": 0},
    "RandomNormal": {"mean": 0.0, "stddev": 0.05, "seed": None},
    "RandomUniform": {"minval": -0.05, "maxval": 0.05, "seed": None},
    "TruncatedNormal": {"mean": 0.0, "stddev": 0.05, "seed": None},
    "VarianceScaling": {
        "scale": 1.0,
        "mode": "fan_in",
        "distribution": "truncated_normal",
        "seed": None,
    },
    "GlorotUniform": {"seed": None},
    "GlorotNormal": {"seed": None},
    "HeUniform": {"seed": None},
    "HeNormal": {"seed": None},
    "LecunUniform": {"seed": None},
    "LecunNormal": {"seed": None},
    "Orthogonal": {"gain": 1.0, "seed": None},
    "Identity": {"gain": 1.0},
}


@pytest.mark.parametrize("class_name", sorted(DEFAULT_CONFIGS))
def test_default_config_and_serialized_form(class_name):
    init = getattr(initializers, class_name)()
    assert init.get_config() == DEFAULT_CONFIGS[class_name]
    serialized = initializers.serialize(init)
    assert serialized == {
        "module": "keras.initializers",
        "class_name": class_name,
        "config": DEFAULT_CONFIGS[class_name],
        "registered_name": None,
    }
    again = initializers.deserialize(json.loads(json.dumps(serialized)))
    assert type(again) is type(init) and again.get_config() == init.get_config()


@pytest.mark.parametrize(
    "name, cls",
    [
        ("glorot_uniform", initializers.GlorotUniform),
        ("he_normal", initializers.HeNormal),
        ("zeros", initializers.Zeros),
        ("normal", initializers.RandomNormal),
        ("uniform", initializers.RandomUniform),
        ("Orthogonal", initializers.Orthogonal),
    ],
)
def test_get_by_name(name, cls):
    assert type(initializers.get(name)) is cls


def test_get_by_legacy_dict_and_object_and_callable():
    init = initializers.get({"class_name": "Constant", "config": {"value": 2.5}})
    assert torch.equal(init((2, 2)), torch.full((2, 2), 2.5))
    obj = initializers.Ones()
    assert initializers.get(obj) is obj

    def fives(shape, dtype=None):
        return torch.full(shape, 5.0)

    assert initializers.get(fives) is fives
    with pytest.raises(ValueError, match="nope"):
        initializers.get("nope")


def test_glorot_uniform_stays_within_its_limit():
    values = initializers.GlorotUniform(seed=1)((200, 300))
    limit = math.sqrt(6.0 / 500)
    assert values.abs().max() <= limit
    assert values.abs().max() > 0.95 * limit
    assert abs(values.std().item() - limit / math.sqrt(3)) < 0.002


def test_he_normal_is_truncated_with_the_right_stddev():
    values = initializers.HeNormal(seed=2)((400, 500))
    stddev = math.sqrt(2.0 / 400)
    assert values.abs().max() <= 2 * stddev / 0.87962566103423978 + 1e-6
    assert abs(values.std().item() / stddev - 1.0) < 0.02


def test_conv_fans_use_receptive_field():
    # kernel (3, 3, 4, 8): fan_in = 36, fan_out = 72; LecunUniform limit sqrt(3 / 36).
    values = initializers.LecunUniform(seed=3)((3, 3, 4, 8))
    assert values.abs().max() <= math.sqrt(3.0 / 36)


def test_seeded_initializer_repeats_and_unseeded_varies():
    a = initializers.RandomNormal(seed=7)((5,))
    assert torch.equal(a, initializers.RandomNormal(seed=7)((5,)))
    init = initializers.RandomNormal()
    assert not torch.equal(init((5,)), init((5,)))


def test_orthogonal_and_identity():
    q = initializers.Orthogonal(gain=2.0, seed=0)((6, 4))
    torch.testing.assert_close(q.T @ q, 4.0 * torch.eye(4), atol=1e-5, rtol=0)
    assert torch.equal(initializers.Identity(gain=3.0)((2, 3)), 3.0 * torch.eye(2, 3))
    with pytest.raises(ValueError, match="2D"):
        initializers.Identity()((2, 2, 2))


def test_dtype_and_integer_checks():
    assert initializers.Zeros()((2,), dtype="int64").dtype == torch.int64
    assert initializers.GlorotUniform()((2, 2), dtype="float64").dtype == torch.float64
    with pytest.raises(ValueError, match="floating"):
        initializers.GlorotUniform()((2, 2), dtype="int32")


def test_variance_scaling_validates_arguments():
    with pytest.raises(ValueError, match="scale"):
        initializers.VarianceScaling(scale=0)
    with pytest.raises(ValueError, match="mode"):
        initializers.VarianceScaling(mode="fan_sideways")
    assert initializers.VarianceScaling(distribution="normal").distribution == "truncated_normal"


def test_seeded_initializer_repeats_its_values_inside_a_function_as_in_tf() -> None:
    import savedflow as tf

    init = initializers.RandomNormal(seed=3)

    @tf.function
    def draw():
        return init([2, 2])

    values = [draw().tolist() for _ in range(3)]
    assert values[0] == values[1] == values[2] == init([2, 2]).tolist()
    assert draw.get_concrete_function().function_mode == "graph"

"""The engine against tf_keras 2.21: its config, its weight checkpoint, its summary text."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from savedflow import keras
from savedflow.keras import layers

GOLDEN = Path(__file__).resolve().parents[2] / "goldens" / "tfkeras_functional_adam"


def test_tf_keras_config_rebuilds_and_loads_its_save_weights_checkpoint():
    case = json.loads((GOLDEN / "case.json").read_text())
    config = case["notes"]["model_config"]
    model = keras.Model.from_config(config)
    assert [layer.name for layer in model.layers] == ["inp", "d1", "bn", "out"]
    assert json.dumps(model.get_config()) == json.dumps(config)  # same dict, same key order
    status = model.load_weights(str(GOLDEN / "tf_weights" / "w"))
    status.expect_partial()  # the file also holds tf_keras's (new) Adam state
    expected = np.load(GOLDEN / "expected_outputs.npz")
    for index, value in enumerate(model.get_weights()):
        np.testing.assert_array_equal(value, expected[f"get_weights/{index}"])
    np.testing.assert_allclose(
        model(expected["x_test"]).numpy(), expected["call_x_test_inference"], rtol=1e-5, atol=1e-6
    )


# Printed by tf_keras 2.21 (TF_USE_LEGACY_KERAS=1) for the same models.
TF_KERAS_PRETRAINED = "\n".join(
    [
        'Model: "pretrained"',
        "_________________________________________________________________",
        " Layer (type)                Output Shape              Param #   ",
        "=================================================================",
        " digits (InputLayer)         [(None, 784)]             0         ",
        "                                                                 ",
        " dense_1 (Dense)             (None, 64)                50240     ",
        "                                                                 ",
        " dense_2 (Dense)             (None, 64)                4160      ",
        "                                                                 ",
        "=================================================================",
        "Total params: 54400 (212.50 KB)",
        "Trainable params: 54400 (212.50 KB)",
        "Non-trainable params: 0 (0.00 Byte)",
        "_________________________________________________________________",
        "",
    ]
)

TF_KERAS_BRANCHED_80 = "\n".join(
    [
        'Model: "model"',
        "________________________________________________________________________________",
        " Layer (type)           Output Shape            Param   Connected to            ",
        "                                                 #                              ",
        "================================================================================",
        " a (InputLayer)         [(None, 3)]             0       []                      ",
        "                                                                                ",
        " b (InputLayer)         [(None, 4)]             0       []                      ",
        "                                                                                ",
        " concatenate (Concaten  (None, 7)               0       ['a[0][0]',             ",
        " ate)                                                    'b[0][0]']             ",
        "                                                                                ",
        " dense (Dense)          (None, 2)               16      ['concatenate[0][0]']   ",
        "                                                                                ",
        " dense_1 (Dense)        (None, 3)               24      ['concatenate[0][0]']   ",
        "                                                                                ",
        "================================================================================",
        "Total params: 40 (160.00 Byte)",
        "Trainable params: 40 (160.00 Byte)",
        "Non-trainable params: 0 (0.00 Byte)",
        "________________________________________________________________________________",
        "",
    ]
)


def _captured(model, **kwargs):
    lines = []
    model.summary(print_fn=lines.append, **kwargs)
    return "\n".join(lines) + "\n"


def test_summary_text_is_tf_keras_byte_for_byte():
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    assert _captured(keras.Model(inputs, x, name="pretrained")) == TF_KERAS_PRETRAINED

    a, b = keras.Input((3,), name="a"), keras.Input((4,), name="b")
    c = layers.Concatenate()([a, b])
    branched = keras.Model([a, b], [layers.Dense(2)(c), layers.Dense(3)(c)])
    assert _captured(branched, line_length=80) == TF_KERAS_BRANCHED_80
    wide = _captured(branched)
    assert (
        wide.splitlines()[2]
        == " Layer (type)                Output Shape                 Param #   Connected to                  "
    )
    assert len(wide.splitlines()[1]) == 98


# outer.summary(expand_nested=True) printed by tf_keras 2.21 (no blank row after the inner box)
TF_KERAS_EXPANDED = (
    'Model: "outer"\n' + "_" * 65 + "\n"
    " Layer (type)                Output Shape              Param #   \n" + "=" * 65 + "\n"
    " x (InputLayer)              [(None, 3)]               0         \n" + " " * 65 + "\n"
    " inner (Sequential)          (None, 2)                 32        \n"
    "|" + "¯" * 63 + "|\n"
    "| a1 (Dense)                 (None, 5)                 20       |\n"
    "|" + " " * 63 + "|\n"
    "| a2 (Dense)                 (None, 2)                 12       |\n" + "¯" * 65 + "\n"
    " head (Dense)                (None, 1)                 3         \n"
    + " " * 65
    + "\n"
    + "=" * 65
    + "\n"
    "Total params: 35 (140.00 Byte)\n"
    "Trainable params: 35 (140.00 Byte)\n"
    "Non-trainable params: 0 (0.00 Byte)\n" + "_" * 65 + "\n"
)


def test_summary_expand_nested_matches_tf_keras():
    inner = keras.Sequential(
        [layers.Dense(5, input_shape=(3,), name="a1"), layers.Dense(2, name="a2")], name="inner"
    )
    x = keras.Input((3,), name="x")
    outer = keras.Model(x, layers.Dense(1, name="head")(inner(x)), name="outer")
    assert _captured(outer, expand_nested=True) == TF_KERAS_EXPANDED


# get_config key orders printed by tf_keras 2.21 (to_json output is compared byte for byte)
TF_KERAS_CONFIG_KEYS = [
    (
        "L.Dense(3, input_shape=(4,))",
        [
            "name",
            "trainable",
            "dtype",
            "batch_input_shape",
            "units",
            "activation",
            "use_bias",
            "kernel_initializer",
            "bias_initializer",
            "kernel_regularizer",
            "bias_regularizer",
            "activity_regularizer",
            "kernel_constraint",
            "bias_constraint",
        ],
    ),
    (
        "L.Embedding(10, 3, input_length=5)",
        [
            "name",
            "trainable",
            "dtype",
            "batch_input_shape",
            "input_dim",
            "output_dim",
            "embeddings_initializer",
            "embeddings_regularizer",
            "activity_regularizer",
            "embeddings_constraint",
            "mask_zero",
            "input_length",
        ],
    ),
    (
        "L.LSTM(2)",
        [
            "name",
            "trainable",
            "dtype",
            "return_sequences",
            "return_state",
            "go_backwards",
            "stateful",
            "unroll",
            "time_major",
            "units",
            "activation",
            "recurrent_activation",
            "use_bias",
            "kernel_initializer",
            "recurrent_initializer",
            "bias_initializer",
            "unit_forget_bias",
            "kernel_regularizer",
            "recurrent_regularizer",
            "bias_regularizer",
            "activity_regularizer",
            "kernel_constraint",
            "recurrent_constraint",
            "bias_constraint",
            "dropout",
            "recurrent_dropout",
            "implementation",
        ],
    ),
    (
        "L.GRU(2)",
        [
            "name",
            "trainable",
            "dtype",
            "return_sequences",
            "return_state",
            "go_backwards",
            "stateful",
            "unroll",
            "time_major",
            "units",
            "activation",
            "recurrent_activation",
            "use_bias",
            "kernel_initializer",
            "recurrent_initializer",
            "bias_initializer",
            "kernel_regularizer",
            "recurrent_regularizer",
            "bias_regularizer",
            "activity_regularizer",
            "kernel_constraint",
            "recurrent_constraint",
            "bias_constraint",
            "dropout",
            "recurrent_dropout",
            "implementation",
            "reset_after",
        ],
    ),
    (
        "L.SimpleRNN(2)",
        [
            "name",
            "trainable",
            "dtype",
            "return_sequences",
            "return_state",
            "go_backwards",
            "stateful",
            "unroll",
            "time_major",
            "units",
            "activation",
            "use_bias",
            "kernel_initializer",
            "recurrent_initializer",
            "bias_initializer",
            "kernel_regularizer",
            "recurrent_regularizer",
            "bias_regularizer",
            "activity_regularizer",
            "kernel_constraint",
            "recurrent_constraint",
            "bias_constraint",
            "dropout",
            "recurrent_dropout",
        ],
    ),
    (
        "L.LSTMCell(2)",
        [
            "name",
            "trainable",
            "dtype",
            "units",
            "activation",
            "recurrent_activation",
            "use_bias",
            "kernel_initializer",
            "recurrent_initializer",
            "bias_initializer",
            "unit_forget_bias",
            "kernel_regularizer",
            "recurrent_regularizer",
            "bias_regularizer",
            "kernel_constraint",
            "recurrent_constraint",
            "bias_constraint",
            "dropout",
            "recurrent_dropout",
            "implementation",
        ],
    ),
    (
        "L.GRUCell(2)",
        [
            "name",
            "trainable",
            "dtype",
            "units",
            "activation",
            "recurrent_activation",
            "use_bias",
            "kernel_initializer",
            "recurrent_initializer",
            "bias_initializer",
            "kernel_regularizer",
            "recurrent_regularizer",
            "bias_regularizer",
            "kernel_constraint",
            "recurrent_constraint",
            "bias_constraint",
            "dropout",
            "recurrent_dropout",
            "implementation",
            "reset_after",
        ],
    ),
    (
        "L.SimpleRNNCell(2)",
        [
            "name",
            "trainable",
            "dtype",
            "units",
            "activation",
            "use_bias",
            "kernel_initializer",
            "recurrent_initializer",
            "bias_initializer",
            "kernel_regularizer",
            "recurrent_regularizer",
            "bias_regularizer",
            "kernel_constraint",
            "recurrent_constraint",
            "bias_constraint",
            "dropout",
            "recurrent_dropout",
        ],
    ),
]


@pytest.mark.parametrize("expr,keys", TF_KERAS_CONFIG_KEYS)
def test_layer_config_key_order_is_tf_keras(expr, keys):
    made = eval(expr, {"L": layers})
    assert list(made.get_config()) == keys

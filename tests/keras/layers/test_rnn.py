"""SimpleRNN/LSTM/GRU: Keras weight layout, fused vs loop paths agree, states, masks, configs."""

import numpy as np
import pytest
import torch
from layer_test_util import run_layer_test

from savedflow.keras import activations, layers


@pytest.mark.parametrize(
    "cls, cell_name, gates, bias_shape",
    [
        (layers.SimpleRNN, "simple_rnn_cell", 1, (4,)),
        (layers.LSTM, "lstm_cell", 4, (16,)),
        (layers.GRU, "gru_cell", 3, (2, 12)),
    ],
)
def test_weight_names_shapes_and_config(cls, cell_name, gates, bias_shape):
    layer, _ = run_layer_test(
        cls,
        {"units": 4, "return_sequences": True},
        input_shape=(2, 5, 3),
        expected_output_shape=(2, 5, 4),
        expected_weight_shapes={
            "kernel": (3, gates * 4),
            "recurrent_kernel": (4, gates * 4),
            "bias": bias_shape,
        },
    )
    prefix = f"{layer.name}/{cell_name}/"
    assert [w.name for w in layer.weights] == [
        prefix + "kernel:0",
        prefix + "recurrent_kernel:0",
        prefix + "bias:0",
    ]
    config = layer.get_config()
    assert config["units"] == 4 and config["activation"] == "tanh"
    assert config["recurrent_initializer"]["class_name"] == "Orthogonal"


def test_lstm_unit_forget_bias_and_gru_reset_before():
    lstm = layers.LSTM(2)
    lstm(torch.ones(1, 2, 3))
    assert lstm.cell.bias.numpy().tolist() == [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    gru = layers.GRU(2, reset_after=False)
    gru(torch.ones(1, 2, 3))
    assert tuple(gru.cell.bias.shape) == (6,)


@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.LSTM, layers.GRU])
def test_fused_path_equals_cell_loop(cls):
    layer = cls(3, return_sequences=True, return_state=True, go_backwards=True)
    x = torch.randn(2, 6, 4)
    fused = layer(x)
    states = layer.cell.get_initial_state(2, x.dtype)
    looped, final = layer._loop(x.flip(1), states, None, False)
    torch.testing.assert_close(fused[0], looped, rtol=1e-5, atol=1e-6)
    for a, b in zip(fused[1:], final, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_lstm_return_state_shapes_and_initial_state():
    layer = layers.LSTM(3, return_state=True)
    out, h, c = layer(torch.randn(2, 4, 5))
    assert out.shape == h.shape == c.shape == (2, 3)
    torch.testing.assert_close(out, h)
    again = layer(torch.randn(2, 4, 5), initial_state=[h, c])
    assert again[0].shape == (2, 3)


def test_masked_steps_keep_state_and_repeat_output():
    layer = layers.GRU(2, return_sequences=True)
    x = torch.randn(1, 4, 3)
    mask = torch.tensor([[True, True, False, False]])
    out = layer(x, mask=mask)
    torch.testing.assert_close(out[0, 2], out[0, 1])
    torch.testing.assert_close(out[0, 3], out[0, 1])
    short = layer(x[:, :2])
    torch.testing.assert_close(out[:, 1], short[:, 1])


def test_dropout_only_in_training():
    layer = layers.LSTM(3, dropout=0.5, recurrent_dropout=0.5)
    x = torch.randn(2, 5, 4)
    torch.testing.assert_close(layer(x), layer(x))
    assert not torch.equal(layer(x, training=True), layer(x))


def test_non_default_activation_uses_loop_and_matches_manual_step():
    layer = layers.SimpleRNN(2, activation="sigmoid", use_bias=False)
    x = torch.randn(1, 1, 3)
    out = layer(x)
    kernel = torch.from_numpy(layer.get_weights()[0])
    torch.testing.assert_close(out, activations.sigmoid(x[:, 0] @ kernel))


def test_stateful_carries_states_and_reset():
    layer = layers.SimpleRNN(2, stateful=True)
    x = torch.randn(1, 3, 2)
    first = layer(x)
    second = layer(x)
    assert not torch.allclose(first, second)
    layer.reset_states()
    torch.testing.assert_close(layer(x), first)


def test_rnn_input_rank_error():
    with pytest.raises(ValueError, match="ndim=3"):
        layers.LSTM(2)(torch.ones(2, 3))
    np.testing.assert_equal(layers.LSTM(2).get_config()["implementation"], 2)

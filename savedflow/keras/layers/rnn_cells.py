"""Recurrent cells with Keras's weight layout: SimpleRNNCell, LSTMCell, GRUCell.

Each cell owns ``kernel`` (input_dim, n * units), ``recurrent_kernel`` (units, n * units) and
``bias``; gates are packed in Keras order (LSTM: i, f, c, o; GRU: z, r, h). A cell computes one
timestep: ``call(inputs, states, training) -> (output, new_states)``.
"""

from __future__ import annotations

from typing import Any

import torch

from savedflow.keras import activations, constraints, initializers, regularizers
from savedflow.keras.layers._layer_utils import resolve_training, shape_list, value
from savedflow.keras.layers.layer import Layer

# Constructor arguments shared by the three cells, with their tf.keras defaults.
_COMMON_DEFAULTS: dict[str, Any] = {
    "activation": "tanh",
    "use_bias": True,
    "kernel_initializer": "glorot_uniform",
    "recurrent_initializer": "orthogonal",
    "bias_initializer": "zeros",
    "kernel_regularizer": None,
    "recurrent_regularizer": None,
    "bias_regularizer": None,
    "kernel_constraint": None,
    "recurrent_constraint": None,
    "bias_constraint": None,
    "dropout": 0.0,
    "recurrent_dropout": 0.0,
}
_RESOLVERS = {
    "initializer": (initializers.get, initializers.serialize),
    "regularizer": (regularizers.get, regularizers.serialize),
    "constraint": (constraints.get, constraints.serialize),
    "activation": (activations.get, activations.serialize),
}


def _kind(arg: str) -> str | None:
    for kind in _RESOLVERS:
        if arg.endswith(kind):
            return kind
    return None


class _Cell(Layer):
    """Shared argument handling, weight creation and dropout masks of the built-in cells."""

    _GATES = 1
    _EXTRA_DEFAULTS: dict[str, Any] = {}
    _CONFIG_ORDER: tuple[str, ...] = ()  # get_config key order of tf_keras 2.21 (subclasses)

    @classmethod
    def _arg_defaults(cls) -> dict[str, Any]:
        """The constructor arguments besides ``units``, with their tf.keras defaults."""
        return {**_COMMON_DEFAULTS, **cls._EXTRA_DEFAULTS}

    def __init__(self, units: int, **kwargs: Any) -> None:
        args = self._arg_defaults()
        for key in list(args):
            if key in kwargs:
                args[key] = kwargs.pop(key)
        super().__init__(**kwargs)
        if not isinstance(units, int) or units <= 0:
            raise ValueError(
                "Received an invalid value for argument `units`, expected a positive integer. "
                f"Received: units={units}"
            )
        self.units = units
        self._sf_arg_names = list(args)
        for key, arg in args.items():
            kind = _kind(key)
            setattr(self, key, _RESOLVERS[kind][0](arg) if kind else arg)
        self.dropout = min(1.0, max(0.0, float(self.dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(self.recurrent_dropout)))
        self._sf_masks: dict[str, Any] = {}

    @property
    def state_size(self) -> Any:
        return self.units

    @property
    def output_size(self) -> int:
        return self.units

    def _bias_shape(self) -> tuple[int, ...]:
        return (self._GATES * self.units,)

    def _bias_initializer(self) -> Any:
        return self.bias_initializer

    def build(self, input_shape: Any) -> None:
        input_dim = shape_list(input_shape)[-1]
        n = self._GATES * self.units
        self.kernel = self.add_weight(
            "kernel", shape=(input_dim, n), initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
        )  # fmt: skip
        self.recurrent_kernel = self.add_weight(
            "recurrent_kernel", shape=(self.units, n), initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint,
        )  # fmt: skip
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                "bias", shape=self._bias_shape(), initializer=self._bias_initializer(),
                regularizer=self.bias_regularizer, constraint=self.bias_constraint,
            )  # fmt: skip
        self.built = True

    def reset_dropout_mask(self) -> None:
        """Forgets the dropout masks so the next sequence draws new ones."""
        self._sf_masks = {}

    def _dropout_mask(self, kind: str, like: torch.Tensor, rate: float, training: bool) -> Any:
        if not training or rate <= 0.0:
            return None
        mask = self._sf_masks.get(kind)
        if mask is None or mask.shape != like.shape:
            keep = 1.0 - rate
            mask = (torch.rand_like(like) >= rate).to(like.dtype) / keep
            self._sf_masks[kind] = mask
        return mask

    def _inputs_and_state(
        self, inputs: torch.Tensor, h: torch.Tensor, training: Any
    ) -> tuple[torch.Tensor, torch.Tensor]:
        training = resolve_training(training)
        dp = self._dropout_mask("input", inputs, self.dropout, training)
        rec = self._dropout_mask("recurrent", h, self.recurrent_dropout, training)
        return (inputs if dp is None else inputs * dp), (h if rec is None else h * rec)

    def get_initial_state(self, batch_size: int, dtype: Any, device: Any = None) -> list:
        sizes = self.state_size if isinstance(self.state_size, list) else [self.state_size]
        return [torch.zeros(batch_size, s, dtype=dtype, device=device) for s in sizes]

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["units"] = self.units
        for key in self._sf_arg_names:
            kind = _kind(key)
            val = getattr(self, key)
            config[key] = _RESOLVERS[kind][1](val) if kind else val
        head = [k for k in config if k not in self._CONFIG_ORDER]
        return {k: config[k] for k in [*head, *self._CONFIG_ORDER] if k in config}


class SimpleRNNCell(_Cell):
    """Cell of SimpleRNN: ``h = activation(x @ kernel + h_prev @ recurrent_kernel + bias)``."""

    _CONFIG_ORDER: tuple[str, ...] = (
        "units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer",
        "bias_initializer", "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
        "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
        "recurrent_dropout",
    )  # fmt: skip

    def call(self, inputs: Any, states: Any, training: Any = None) -> tuple[Any, list]:
        h_prev = states[0] if isinstance(states, (list, tuple)) else states
        x, h_in = self._inputs_and_state(inputs, h_prev, training)
        out = x @ value(self.kernel)
        if self.bias is not None:
            out = out + value(self.bias)
        h = self.activation(out + h_in @ value(self.recurrent_kernel))
        return h, [h]


class LSTMCell(_Cell):
    """Cell of LSTM (gates i, f, c, o); ``unit_forget_bias`` starts the forget bias at 1."""

    _CONFIG_ORDER: tuple[str, ...] = (
        "units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
        "recurrent_initializer", "bias_initializer", "unit_forget_bias", "kernel_regularizer",
        "recurrent_regularizer", "bias_regularizer", "kernel_constraint", "recurrent_constraint",
        "bias_constraint", "dropout", "recurrent_dropout", "implementation",
    )  # fmt: skip

    _GATES = 4
    _EXTRA_DEFAULTS = {
        "recurrent_activation": "sigmoid",
        "unit_forget_bias": True,
        "implementation": 2,
    }

    @property
    def state_size(self) -> list[int]:
        return [self.units, self.units]

    def _bias_initializer(self) -> Any:
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, units = self.bias_initializer, self.units

        def init(shape: Any, dtype: Any = None, **kwargs: Any) -> torch.Tensor:
            parts = [base((units,), dtype=dtype), initializers.Ones()((units,), dtype=dtype)]
            parts.append(base((2 * units,), dtype=dtype))
            return torch.cat(parts)

        return init

    def call(self, inputs: Any, states: Any, training: Any = None) -> tuple[Any, list]:
        h_prev, c_prev = states[0], states[1]
        x, h_in = self._inputs_and_state(inputs, h_prev, training)
        z = x @ value(self.kernel) + h_in @ value(self.recurrent_kernel)
        if self.bias is not None:
            z = z + value(self.bias)
        zi, zf, zc, zo = torch.chunk(z, 4, dim=-1)
        i = self.recurrent_activation(zi)
        f = self.recurrent_activation(zf)
        c = f * c_prev + i * self.activation(zc)
        o = self.recurrent_activation(zo)
        h = o * self.activation(c)
        return h, [h, c]


class GRUCell(_Cell):
    """Cell of GRU (gates z, r, h). With ``reset_after`` (default) the bias is (2, 3 * units):
    input bias and recurrent bias, and the reset gate applies after the recurrent matmul."""

    _CONFIG_ORDER: tuple[str, ...] = (
        "units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
        "recurrent_initializer", "bias_initializer", "kernel_regularizer", "recurrent_regularizer",
        "bias_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint",
        "dropout", "recurrent_dropout", "implementation", "reset_after",
    )  # fmt: skip

    _GATES = 3
    _EXTRA_DEFAULTS = {
        "recurrent_activation": "sigmoid",
        "reset_after": True,
        "implementation": 2,
    }

    def _bias_shape(self) -> tuple[int, ...]:
        n = 3 * self.units
        return (2, n) if self.reset_after else (n,)

    def call(self, inputs: Any, states: Any, training: Any = None) -> tuple[Any, list]:
        h_prev = states[0] if isinstance(states, (list, tuple)) else states
        x, h_in = self._inputs_and_state(inputs, h_prev, training)
        u = self.units
        kernel, rec = value(self.kernel), value(self.recurrent_kernel)
        bias = value(self.bias) if self.bias is not None else None
        xz = x @ kernel
        if bias is not None:
            xz = xz + (bias[0] if self.reset_after else bias)
        x_z, x_r, x_h = torch.split(xz, u, dim=-1)
        if self.reset_after:
            hz = h_in @ rec
            if bias is not None:
                hz = hz + bias[1]
            h_z, h_r, h_h = torch.split(hz, u, dim=-1)
            z = self.recurrent_activation(x_z + h_z)
            r = self.recurrent_activation(x_r + h_r)
            hh = self.activation(x_h + r * h_h)
        else:
            z = self.recurrent_activation(x_z + h_in @ rec[:, :u])
            r = self.recurrent_activation(x_r + h_in @ rec[:, u : 2 * u])
            hh = self.activation(x_h + (r * h_in) @ rec[:, 2 * u :])
        h = z * h_prev + (1 - z) * hh
        return h, [h]

"""Recurrent layers: RNN (any cell), SimpleRNN, LSTM and GRU with tf.keras 2.x semantics.

Weights live in the cell, so they are named ``lstm/lstm_cell/kernel:0`` and checkpointed under
``cell/kernel`` as in tf.keras. With the default activations and no dropout or mask, the whole
sequence runs in one fused torch kernel (torch's LSTM/GRU/RNN gate equations are the same as
Keras's once the gates are reordered); otherwise a per-timestep loop over the cell is used.
Masked timesteps keep the previous state and repeat the previous output, as tf.keras does.
"""

from __future__ import annotations

from typing import Any

import torch

from savedflow.keras import activations, regularizers
from savedflow.keras.layers._layer_utils import resolve_training, shape_list, value
from savedflow.keras.layers.layer import Layer
from savedflow.keras.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell, _Cell
from savedflow.ops.name_scope import name_scope

__all__ = ["RNN", "SimpleRNN", "LSTM", "GRU", "SimpleRNNCell", "LSTMCell", "GRUCell"]


class RNN(Layer):
    """Runs ``cell`` over the time axis of (batch, time, features) inputs.

    Args:
        cell: a cell layer with ``call(inputs, states) -> (output, new_states)`` and
            ``state_size``.
        return_sequences: return the output of every step (batch, time, units).
        return_state: also return the final states (``[output, *states]``).
        go_backwards: process the sequence in reverse (outputs stay in processing order).
        stateful: carry the final states of a batch over to the next call.
        unroll: accepted for compatibility (has no effect).
        time_major: inputs are (time, batch, features).
    """

    def __init__(
        self,
        cell: Any,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        time_major: bool = False,
        **kwargs: Any,
    ) -> None:
        if isinstance(cell, dict):
            from savedflow.keras.layers import deserialize

            cell = deserialize(cell)
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll
        self.time_major = time_major
        self.supports_masking = True
        self._sf_states: _States | None = None

    @property
    def states(self) -> list[Any] | None:
        """The carried-over states of a stateful layer: Variables (None before the first call)."""
        holder = self._sf_states
        return None if holder is None else list(holder.variables)

    def reset_states(self, states: Any = None) -> None:
        """Zeroes (or sets) the carried-over states of a stateful layer.

        The state Variables are written in place, so steps already recorded as graphs
        (``fit``, ``predict``) start from the new values. States of another shape replace the
        Variables (steps recorded for the old batch size then fail, as in tf.keras).
        """
        holder = self._sf_states
        if states is None:
            if holder is not None:
                for variable in holder.variables:
                    variable.assign(torch.zeros_like(variable.value()))
            return
        states = states if isinstance(states, (list, tuple)) else [states]
        values = [value(s).detach().clone() for s in states]
        if holder is not None and [tuple(v.shape) for v in values] == [
            tuple(v.shape) for v in holder.variables
        ]:
            for variable, new in zip(holder.variables, values):
                variable.assign(new.to(variable.dtype.as_torch_dtype))
            return
        self._sf_states = _States(self.name, values)

    def build(self, input_shape: Any) -> None:
        dims = shape_list(input_shape)
        if len(dims) != 3:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"ndim=3, found ndim={len(dims)}. Full shape received: {tuple(dims)}"
            )
        if dims[-1] is None:
            raise ValueError(
                f"The last dimension of the inputs to '{self.name}' should be defined. "
                f"Full shape received: {tuple(dims)}"
            )
        step_shape = (dims[1] if self.time_major else dims[0], dims[-1])
        if not self.cell.built:
            with name_scope(self.cell.name):
                self.cell.build(step_shape)
            self.cell.built = True
        self.built = True

    def _initial_states(self, x: torch.Tensor, initial_state: Any) -> list[torch.Tensor]:
        if initial_state is not None:
            states = initial_state if isinstance(initial_state, (list, tuple)) else [initial_state]
            return [value(s) if not isinstance(s, torch.Tensor) else s for s in states]
        if self.stateful and self._sf_states is not None:
            return self._sf_states.read(x.shape[0], self.name)
        if type(self.cell).get_initial_state is _Cell.get_initial_state:
            zeros = [_batch_zeros(x, size) for size in _state_sizes(self.cell)]
        else:
            zeros = self.cell.get_initial_state(x.shape[0], x.dtype, x.device)
        if self.stateful:
            self._sf_states = _States(self.name, [z.detach().clone() for z in zeros])
        return zeros

    def call(
        self, inputs: Any, mask: Any = None, training: Any = None, initial_state: Any = None
    ) -> Any:
        x = inputs
        if self.time_major:
            x = x.transpose(0, 1)
        kernel = getattr(self.cell, "kernel", None)
        if kernel is not None and x.dtype != value(kernel).dtype:
            x = x.to(value(kernel).dtype)
        if mask is not None:
            mask = torch.as_tensor(mask, dtype=torch.bool, device=x.device)
        if self.go_backwards:
            x = x.flip(1)
            mask = mask.flip(1) if mask is not None else None
        training = resolve_training(training)
        states = self._initial_states(x, initial_state)
        fused = None
        if mask is None and not self._uses_dropout(training):
            fused = self._fused(x, states, training)
        if fused is not None:
            outputs, states = fused
        else:
            outputs, states = self._loop(x, states, mask, training)
        if self.stateful and self._sf_states is None:  # the first call gave initial_state
            self._sf_states = _States(self.name, [s.detach().clone() for s in states])
        elif self.stateful:
            self._sf_states.write(states)
        if self.return_sequences:
            output = outputs.transpose(0, 1) if self.time_major else outputs
        else:
            output = outputs[:, -1]
        if self.return_state:
            return [output, *states]
        return output

    def _uses_dropout(self, training: bool) -> bool:
        rates = (getattr(self.cell, "dropout", 0.0), getattr(self.cell, "recurrent_dropout", 0.0))
        return training and any(r > 0 for r in rates)

    def _fused(self, x: torch.Tensor, states: list, training: bool) -> Any:
        """Whole-sequence torch kernel when the cell allows it; None to use the loop."""
        return None

    def _loop(self, x: torch.Tensor, states: list, mask: Any, training: bool) -> tuple:
        if hasattr(self.cell, "reset_dropout_mask"):
            self.cell.reset_dropout_mask()
        kwargs = {"training": training} if _accepts_training(self.cell) else {}
        outputs = []
        prev_out = None
        for t in range(x.shape[1]):
            out, new_states = self.cell.call(x[:, t], states, **kwargs)
            new_states = list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]
            if mask is not None:
                m = mask[:, t].unsqueeze(-1)
                if prev_out is None:
                    prev_out = torch.zeros_like(out)
                out = torch.where(m, out, prev_out)
                new_states = [torch.where(m, n, s) for n, s in zip(new_states, states, strict=True)]
            outputs.append(out)
            prev_out = out
            states = new_states
        return torch.stack(outputs, dim=1), states

    def compute_output_shape(self, input_shape: Any) -> Any:
        dims = shape_list(input_shape)
        batch, time = (dims[1], dims[0]) if self.time_major else (dims[0], dims[1])
        units = self.cell.output_size if hasattr(self.cell, "output_size") else self.cell.units
        if self.return_sequences:
            out = (time, batch, units) if self.time_major else (batch, time, units)
        else:
            out = (batch, units)
        if not self.return_state:
            return out
        sizes = (
            self.cell.state_size
            if isinstance(self.cell.state_size, list)
            else [self.cell.state_size]
        )
        return [out, *[(batch, s) for s in sizes]]

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if isinstance(mask, list):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            sizes = self.cell.state_size if isinstance(self.cell.state_size, list) else [1]
            return [output_mask] + [None] * len(sizes)
        return output_mask

    def _base_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "return_sequences": self.return_sequences,
                "return_state": self.return_state,
                "go_backwards": self.go_backwards,
                "stateful": self.stateful,
                "unroll": self.unroll,
                "time_major": self.time_major,
            }
        )
        return config

    def get_config(self) -> dict[str, Any]:
        from savedflow.keras.layers import serialize

        config = self._base_config()
        config["cell"] = serialize(self.cell)
        return config


class _States:
    """The state Variables a stateful RNN carries from batch to batch.

    Reads and writes go through the Variables, so a ``savedflow.function`` trace (fit's
    steps) records them as graph inputs written in place. Kept in a plain object, as tf.keras
    keeps them out of the layer's weights and checkpoints.
    """

    def __init__(self, layer_name: str, values: list[torch.Tensor]):
        from savedflow.variables import Variable

        self.variables = [
            Variable(v, trainable=False, name=f"{layer_name}/state_{i}")
            for i, v in enumerate(values)
        ]

    def read(self, batch_size: int, layer_name: str) -> list[torch.Tensor]:
        """The current states, as copies: the write after the step must not change what the
        step computed from them (nor what autograd saved)."""
        expected = int(self.variables[0].shape[0]) if self.variables[0].shape.rank else None
        if expected != batch_size:
            raise ValueError(
                f"Layer '{layer_name}' is stateful with states for batches of {expected} samples; "
                f"received a batch of {batch_size}. Feed batches of one size, or call "
                "`reset_states(states)` with states of the new batch size."
            )
        return [v.value().clone() for v in self.variables]

    def write(self, states: list[torch.Tensor]) -> None:
        """Keep the final states of this batch for the next one (no gradient flows through)."""
        for variable, state in zip(self.variables, states):
            variable.assign(state.detach())


def _state_sizes(cell: Any) -> list[int]:
    sizes = cell.state_size
    return list(sizes) if isinstance(sizes, (list, tuple)) else [sizes]


def _batch_zeros(x: torch.Tensor, size: int) -> torch.Tensor:
    """Zeros of shape (batch, size) made from ``x`` (batch, time, features).

    Made from ``x`` rather than from its size as a number, so a recorded graph stays valid
    for other batch sizes (a fused kernel given states of the wrong size does not check).
    """
    if x.shape[1] == 0 or x.shape[2] == 0:
        return torch.zeros(x.shape[0], size, dtype=x.dtype, device=x.device)
    return torch.zeros_like(x[:, 0, :1]).expand(-1, size)


def _accepts_training(cell: Any) -> bool:
    import inspect

    return "training" in inspect.signature(cell.call).parameters


def _is(fn: Any, name: str) -> bool:
    return fn is getattr(activations, name)


class _BuiltinRNN(RNN):
    """RNN whose cell is built from the layer's own arguments (config is flat, as tf.keras)."""

    _CELL: type = SimpleRNNCell
    _CELL_NAME = "simple_rnn_cell"

    def __init__(self, units: int, **kwargs: Any) -> None:
        cell_args = self._CELL._arg_defaults()
        for key in list(cell_args):
            if key in kwargs:
                cell_args[key] = kwargs.pop(key)
        layer_keys = (
            "return_sequences", "return_state", "go_backwards", "stateful", "unroll",
            "time_major",
        )  # fmt: skip
        layer_args = {k: kwargs.pop(k) for k in layer_keys if k in kwargs}
        cell = self._CELL(
            units, name=self._CELL_NAME, dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True), **cell_args,
        )  # fmt: skip
        super().__init__(cell, **layer_args, **kwargs)

    def get_config(self) -> dict[str, Any]:
        config = self._base_config()
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key, None)
        config.update(cell_config)
        config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        order = list(self._CELL._CONFIG_ORDER)  # tf_keras 2.21's key order
        order.insert(order.index("bias_regularizer") + 1, "activity_regularizer")
        head = [k for k in config if k not in order]
        return {k: config[k] for k in [*head, *order] if k in config}


def _cell_property(name: str) -> property:
    def getter(self: Any) -> Any:
        return getattr(self.cell, name)

    getter.__doc__ = f"The cell's ``{name}``."
    return property(getter)


for _name in (
    "units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
    "recurrent_initializer", "bias_initializer", "kernel_regularizer", "recurrent_regularizer",
    "bias_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint",
    "dropout", "recurrent_dropout", "unit_forget_bias", "reset_after", "implementation",
):  # fmt: skip
    setattr(_BuiltinRNN, _name, _cell_property(_name))


class SimpleRNN(_BuiltinRNN):
    """Fully connected RNN: ``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + b)``.

    Example::

        keras.layers.SimpleRNN(4)(torch.ones(2, 5, 3)).shape  # torch.Size([2, 4])
    """

    _CELL = SimpleRNNCell
    _CELL_NAME = "simple_rnn_cell"

    def _fused(self, x: torch.Tensor, states: list, training: bool) -> Any:
        cell = self.cell
        if not (_is(cell.activation, "tanh") or _is(cell.activation, "relu")):
            return None
        fn = torch._VF.rnn_tanh if _is(cell.activation, "tanh") else torch._VF.rnn_relu
        params = [value(cell.kernel).t(), value(cell.recurrent_kernel).t()]
        if cell.bias is not None:
            b = value(cell.bias)
            params += [b, torch.zeros_like(b)]
        h0 = states[0].unsqueeze(0).contiguous()
        out, h = fn(
            x.contiguous(), h0, params, cell.bias is not None, 1, 0.0, training, False, True
        )
        return out, [h[0]]


class LSTM(_BuiltinRNN):
    """Long short-term memory layer (Hochreiter 1997); gates i, f, c, o as in tf.keras.

    Example::

        out, h, c = keras.layers.LSTM(4, return_state=True)(torch.ones(2, 5, 3))
    """

    _CELL = LSTMCell
    _CELL_NAME = "lstm_cell"

    def _fused(self, x: torch.Tensor, states: list, training: bool) -> Any:
        cell = self.cell
        if not (_is(cell.activation, "tanh") and _is(cell.recurrent_activation, "sigmoid")):
            return None
        params = [value(cell.kernel).t(), value(cell.recurrent_kernel).t()]
        if cell.bias is not None:
            b = value(cell.bias)
            params += [b, torch.zeros_like(b)]
        hx = (states[0].unsqueeze(0).contiguous(), states[1].unsqueeze(0).contiguous())
        out, h, c = torch._VF.lstm(
            x.contiguous(), hx, params, cell.bias is not None, 1, 0.0, training, False, True
        )
        return out, [h[0], c[0]]


def _gru_to_torch(w: torch.Tensor, units: int) -> torch.Tensor:
    """Reorders packed gates along the last axis from Keras (z, r, h) to torch (r, z, n)."""
    z, r, h = torch.split(w, units, dim=-1)
    return torch.cat([r, z, h], dim=-1)


class GRU(_BuiltinRNN):
    """Gated recurrent unit layer (Cho et al. 2014); ``reset_after=True`` (the default) is
    the cuDNN-compatible variant with a (2, 3 * units) bias.

    Example::

        keras.layers.GRU(4, return_sequences=True)(torch.ones(2, 5, 3)).shape  # (2, 5, 4)
    """

    _CELL = GRUCell
    _CELL_NAME = "gru_cell"

    def _fused(self, x: torch.Tensor, states: list, training: bool) -> Any:
        cell = self.cell
        if not (
            cell.reset_after
            and _is(cell.activation, "tanh")
            and _is(cell.recurrent_activation, "sigmoid")
        ):
            return None
        u = cell.units
        params = [
            _gru_to_torch(value(cell.kernel), u).t(),
            _gru_to_torch(value(cell.recurrent_kernel), u).t(),
        ]
        if cell.bias is not None:
            b = value(cell.bias)
            params += [_gru_to_torch(b[0], u), _gru_to_torch(b[1], u)]
        h0 = states[0].unsqueeze(0).contiguous()
        out, h = torch._VF.gru(
            x.contiguous(), h0, params, cell.bias is not None, 1, 0.0, training, False, True
        )
        return out, [h[0]]

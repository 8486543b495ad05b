"""Optimizer: the slot-based optimizer base class of tf.keras 2.x (``optimizers.legacy``).

State is laid out exactly as a tf_keras legacy optimizer lays it out in a checkpoint: the
optimizer node has children ``iter`` (int64) and one float32 variable per hyper-parameter
(``learning_rate``, ``decay``, ``beta_1``, ...), created lazily on the first
:meth:`Optimizer.apply_gradients`; per-variable *slot variables* (``m``/``v`` for Adam) are
reported through :meth:`get_slot_names` / :meth:`get_slot` so the checkpoint writes them under
``<variable path>/.OPTIMIZER_SLOT/<optimizer path>/<slot name>``.

Updates run under ``torch.no_grad`` in place on the variables' tensors, batched over all
variables with ``torch._foreach_*`` kernels. Everything that depends on the step (the step
count, the scheduled and decayed learning rate, bias corrections, hyper-parameter values) is
computed as 0-d float32 tensors from the ``iter`` and hyper-parameter variables, in float32 as
TF computes it, on the variables' device: no value is read on the host per step, and inside a
``savedflow.function`` the whole update records as a graph (reads and writes go through
:mod:`savedflow.keras.optimizers._state`).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch

from savedflow.keras.optimizers import _new_layout, _state
from savedflow.keras.optimizers.schedules import learning_rate_schedule as lr_schedule
from savedflow.tracking.base import Trackable

_ALLOWED_KWARGS = ("clipnorm", "clipvalue", "lr", "decay", "global_clipnorm")
_log = logging.getLogger("savedflow.keras.optimizers")


class Optimizer(Trackable):
    """Base class of the slot-based Keras optimizers (SGD, Adam, AdamW, RMSprop, Adagrad).

    Subclasses declare hyper-parameters with :meth:`_set_hyper`, create slots in
    :meth:`_create_slots`, add per-step tensors in :meth:`_prepare_local` and implement
    :meth:`_apply_dense`, which receives lists of tensors (variables, gradients, and one list
    per slot name) to update in place.

    Args:
      name: name used as the prefix of slot variable names (``Adam/dense/kernel/m:0``).
      **kwargs: ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``decay`` (time-inverse
        decay of the learning rate), ``lr`` (deprecated alias of ``learning_rate``).
    """

    _HAS_AGGREGATE_GRAD = True
    _momentum = False  # set by _set_momentum (SGD, RMSprop)

    def __init__(
        self,
        name: str,
        gradient_aggregator: Any = None,
        gradient_transformers: Any = None,
        **kwargs: Any,
    ):
        for key, value in kwargs.items():
            if key not in _ALLOWED_KWARGS:
                raise TypeError(
                    f"Unexpected keyword argument passed to optimizer: {key}. Allowed kwargs are "
                    f"{set(_ALLOWED_KWARGS)}."
                )
            if value is not None and not callable(value) and value < 0:
                raise ValueError(f"Expected {key} >= 0, received: {value}")
            if key == "lr":
                warnings.warn(
                    "The `lr` argument is deprecated, use `learning_rate` instead.", stacklevel=3
                )
        object.__setattr__(self, "_hyper", {})
        self._name = name
        self._slots: dict[int, dict[str, Any]] = {}
        self._slot_owners: dict[int, Any] = {}
        self._slots_created: set[int] = set()
        self._var_order: list[Any] = []
        self._new_layout_list: Any = None
        self._new_layout_pending: dict[int, np.ndarray] = {}
        self._slot_names: list[str] = []
        self._weights: list[Any] = []
        self._iterations: Any = None
        self._hypers_created = False
        self._deferred_slot_restorations: dict[str, dict[int, list[Any]]] = {}
        self._initial_decay = float(kwargs.pop("decay", 0.0) or 0.0)
        self._clipnorm = kwargs.pop("clipnorm", None)
        self._global_clipnorm = kwargs.pop("global_clipnorm", None)
        self._clipvalue = kwargs.pop("clipvalue", None)
        if self._clipnorm is not None and self._global_clipnorm is not None:
            raise ValueError(
                "Cannot accept both `clipnorm` and `global_clipnorm`. Received: "
                f"`clipnorm`={self._clipnorm}, `global_clipnorm`={self._global_clipnorm}."
            )
        self.gradient_transformers = list(gradient_transformers or [])
        # Per variable list: (groups of same device/dtype, constrained variables); see _plan.
        self._plans: dict[tuple[int, ...], tuple[list[_Group], list[Any]]] = {}
        self._host_floats: dict[int, tuple[Any, int, float]] = {}
        self._device: torch.device | None = None
        self._own_hypers: list[Any] = []

    # --- hyper-parameters ---------------------------------------------------------------------

    def _set_hyper(self, name: str, value: Any) -> None:
        """Set hyper-parameter ``name``; assigns into its variable once that exists."""
        current = self._hyper.get(name)
        if isinstance(value, Trackable) and not _state.is_variable(value):
            self._hyper[name] = value  # a LearningRateSchedule
            return
        if _state.is_variable(current) and not isinstance(value, lr_schedule.LearningRateSchedule):
            _state.assign(current, value)
        else:
            self._hyper[name] = value

    def _set_learning_rate(self, learning_rate: Any, kwargs: dict[str, Any]) -> None:
        """Set ``learning_rate`` (or the deprecated ``lr`` in ``kwargs``) and ``decay``."""
        self._set_hyper("learning_rate", kwargs.get("lr", learning_rate))
        self._set_hyper("decay", self._initial_decay)

    def _set_momentum(self, momentum: Any) -> None:
        """Check and set the ``momentum`` hyper-parameter; ``_momentum`` says whether it is used."""
        self._momentum = False
        if isinstance(momentum, torch.Tensor) or callable(momentum) or momentum > 0:
            self._momentum = True
        if isinstance(momentum, (int, float)) and not 0 <= momentum <= 1:
            raise ValueError(
                f"`momentum` must be between [0, 1]. Received: momentum={momentum} (of type {type(momentum)})."
            )
        self._set_hyper("momentum", momentum)

    def _get_hyper(self, name: str) -> Any:
        """The hyper-parameter's current value: a Variable, schedule, float or callable."""
        if not self._hypers_created:
            self._create_hypers()
        return self._hyper[name]

    def _hyper_tensor(self, name: str, device: torch.device) -> torch.Tensor:
        """The hyper-parameter as a 0-d float32 tensor on ``device`` (callables are called)."""
        value = self._hyper[name]
        if callable(value) and not _state.is_variable(value):
            value = value()
        return _state.scalar(value, device)

    def _hyper_float(self, name: str) -> float:
        """The hyper-parameter as a float32-rounded Python float, for kernels taking floats.

        A Variable is read on the host only after it was written (not once per step).
        """
        value = self._hyper[name]
        if _state.is_variable(value):
            return _state.host_float(value, self._host_floats)
        if callable(value):
            value = value()
        return float(np.float32(_state.to_float(value)))

    def _create_hypers(self, device: torch.device | None = None) -> None:
        if self._hypers_created:
            return
        self._hypers_created = True
        self.iterations  # noqa: B018 - creates `iter` first, as TF does
        for name, value in sorted(self._hyper.items()):
            if _state.is_variable(value) or callable(value) or isinstance(value, Trackable):
                continue
            variable = _state.make_variable(
                torch.tensor(float(value), dtype=torch.float32, device=device),
                name=f"{self._name}/{name}",
            )
            self._hyper[name] = variable
            self._own_hypers.append(variable)
            self._track_trackable(variable, name, overwrite=True)

    def _lookup_dependency(self, name: str, cached_dependencies: Any = None) -> Trackable | None:
        """Children by name; a restore asking for ``iter`` or a hyper-parameter creates them."""
        if (
            cached_dependencies is None
            and not self._hypers_created
            and (name == "iter" or name in self._hyper)
        ):
            self._create_hypers()
        found = super()._lookup_dependency(name, cached_dependencies)
        if found is None and cached_dependencies is None:
            found = self._lookup_new_layout(name)
        return found

    # --- checkpoints of tf_keras' new optimizers (optimizer/_variables/N) ---------------------

    def _lookup_new_layout(self, name: str) -> Trackable | None:
        if name == "_iterations":
            return self.iterations
        if name == "_learning_rate":
            self._create_hypers()
            value = self._hyper.get("learning_rate")
            return value if _state.is_variable(value) else None
        if name == "_variables":
            if self._new_layout_list is None:
                self._new_layout_list = _new_layout.VariablesList(self)
            return self._new_layout_list
        return None

    def _new_layout_slot(self, index: int) -> Any:
        order = _new_layout.slot_order(self, self._var_order)
        if 1 <= index <= len(order):
            var, slot_name = order[index - 1]
            return self._slots.get(id(var), {}).get(slot_name)
        return None

    def _receive_new_layout_value(self, index: int, value: np.ndarray) -> None:
        slot = self._new_layout_slot(index)
        if slot is not None:
            _state.assign(slot, value)
        else:
            self._new_layout_pending[index] = value

    def _apply_new_layout_pending(self) -> None:
        for index in sorted(self._new_layout_pending):
            slot = self._new_layout_slot(index)
            if slot is not None:
                _state.assign(slot, self._new_layout_pending.pop(index))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        hyper = self.__dict__.get("_hyper", {})
        if name == "lr":
            name = "learning_rate"
        if name in hyper:
            return self._get_hyper(name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "lr":
            name = "learning_rate"
        hyper = self.__dict__.get("_hyper")
        if hyper is not None and name in hyper:
            self._set_hyper(name, value)
        else:
            object.__setattr__(self, name, value)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self._hyper, "lr"})

    # --- public state ------------------------------------------------------------------------

    @property
    def iterations(self) -> Any:
        """The int64 step counter variable (checkpoint name ``iter``)."""
        if self._iterations is None:
            self._iterations = _state.make_variable(
                torch.zeros((), dtype=torch.int64), name=f"{self._name}/iter"
            )
            self._weights.insert(0, self._iterations)
            self._track_trackable(self._iterations, "iter", overwrite=True)
        return self._iterations

    @iterations.setter
    def iterations(self, variable: Any) -> None:
        if self._iterations is not None:
            raise RuntimeError(
                "Cannot set `iterations` to a new Variable after the Optimizer weights have been created."
            )
        self._iterations = variable
        self._weights.insert(0, variable)
        self._track_trackable(variable, "iter", overwrite=True)

    @property
    def clipnorm(self) -> float | None:
        """Per-gradient norm clipping threshold, or None."""
        return self._clipnorm

    @property
    def global_clipnorm(self) -> float | None:
        """Global-norm clipping threshold over all gradients, or None."""
        return self._global_clipnorm

    @property
    def clipvalue(self) -> float | None:
        """Element-wise clipping threshold, or None."""
        return self._clipvalue

    @property
    def weights(self) -> list[Any]:
        """``[iter] + slot variables`` in creation order (TF's ``optimizer.weights``)."""
        return list(self._weights)

    def variables(self) -> list[Any]:
        """Same as :attr:`weights` (a method, as in tf.keras 2.x legacy optimizers)."""
        return list(self._weights)

    def get_weights(self) -> list[np.ndarray]:
        """Values of :attr:`weights` as numpy arrays."""
        return [_state.storage(w).detach().cpu().numpy().copy() for w in self._weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Assign values to :attr:`weights` (same count and shapes)."""
        if len(weights) != len(self._weights):
            raise ValueError(
                f"You called `set_weights(weights)` on optimizer {self._name} with a weight list of "
                f"length {len(weights)}, but the optimizer was expecting {len(self._weights)} weights."
            )
        for variable, value in zip(self._weights, weights):
            if tuple(np.shape(value)) != tuple(_state.storage(variable).shape):
                raise ValueError(
                    f"Optimizer weight shape {tuple(_state.storage(variable).shape)} not compatible "
                    f"with provided weight shape {tuple(np.shape(value))}."
                )
            _state.assign(variable, value)

    # --- slots -------------------------------------------------------------------------------

    def get_slot_names(self) -> list[str]:
        """Slot names in creation order (``['m', 'v']`` for Adam)."""
        return list(self._slot_names)

    def get_slot(self, var: Any, slot_name: str) -> Any:
        """The slot variable ``slot_name`` of ``var``; KeyError if it was not created."""
        slots = self._slots.get(id(var))
        if slots is None or slot_name not in slots:
            raise KeyError(
                f"Slot {slot_name!r} of variable {_state.name_of(var)!r} does not exist in optimizer {self._name}."
            )
        return slots[slot_name]

    def add_slot(
        self, var: Any, slot_name: str, initializer: Any = "zeros", shape: Any = None
    ) -> Any:
        """Create (once) the slot ``slot_name`` for ``var``; apply any queued restoration."""
        if slot_name not in self._slot_names:
            self._slot_names.append(slot_name)
        key = id(var)
        slots = self._slots.setdefault(key, {})
        if slot_name in slots:
            return slots[slot_name]
        base = _state.storage(var)
        value = _state.initial_slot_value(base, initializer, shape)
        slot = _state.make_variable(value, name=f"{self._name}/{_state.base_name(var)}/{slot_name}")
        slots[slot_name] = slot
        self._plans.clear()
        self._slot_owners[key] = var
        self._weights.append(slot)
        queued = self._deferred_slot_restorations.get(slot_name, {}).pop(key, [])
        for position in sorted(queued, key=lambda p: getattr(p, "restore_uid", 0)):
            position.restore(slot)
        return slot

    def _create_slots(self, var_list: list[Any]) -> None:
        """Create the slots of every variable in ``var_list`` (subclasses override)."""

    def _create_all_weights(self, var_list: list[Any]) -> None:
        if self._device is None and var_list:
            self._place_state(_state.storage(var_list[0]).device)
        self._create_hypers()
        new = [v for v in var_list if id(v) not in self._slots_created]
        if new:
            self._plans.clear()
            for v in new:
                self._slots.setdefault(id(v), {})
                self._slot_owners[id(v)] = v
                self._slots_created.add(id(v))
                self._var_order.append(v)
            self._create_slots(new)
            if self._new_layout_pending:
                self._apply_new_layout_pending()

    def _create_or_restore_slot_variable(
        self, slot_variable_position: Any, slot_name: str, variable: Any
    ) -> None:
        """Checkpoint hook: restore an existing slot, or create it now from the checkpoint value.

        As TF's eager optimizers do, a slot named in the checkpoint is created at restore time
        (initialized with the checkpointed value) so ``assert_consumed`` holds before training.
        """
        slot = self._slots.get(id(variable), {}).get(slot_name)
        if slot is None:
            value = None
            try:
                value = slot_variable_position.value_tensors().get("VARIABLE_VALUE")
            except Exception:  # noqa: BLE001 - fall back to restoring when the slot is created
                value = None
            if value is None:
                by_var = self._deferred_slot_restorations.setdefault(slot_name, {})
                by_var.setdefault(id(variable), []).append(slot_variable_position)
                self._slot_owners.setdefault(id(variable), variable)
                return
            slot = self.add_slot(
                variable, slot_name, initializer=_state.constant_initializer(value)
            )
        slot_variable_position.restore(slot)

    # --- applying gradients ------------------------------------------------------------------

    def _place_state(self, device: torch.device) -> None:
        """Create ``iter`` and the hyper-parameters on the variables' device (or move them there).

        Per-step values are computed from them, so they live where the update runs.
        """
        self._device = device
        self._create_hypers(device)
        for variable in [self._iterations, *self._own_hypers]:
            _state.move_to(variable, device)

    def _decayed_lr(self, step: Any = None, device: torch.device | None = None) -> torch.Tensor:
        """The learning rate for ``step`` (default: ``iterations``): schedule, then ``decay``.

        A 0-d float32 tensor computed as TF does: the step is cast to float32, a schedule is
        called with it, and ``decay`` gives ``lr / (1 + decay * step)``.
        """
        if step is None:
            step = _state.read(self.iterations)
        if not isinstance(step, torch.Tensor):
            step = torch.tensor(step, device=device)
        device = step.device if device is None else device
        lr = self._hyper["learning_rate"]
        schedule = isinstance(lr, lr_schedule.LearningRateSchedule)
        local_step = step
        if schedule or self._initial_decay > 0.0:
            local_step = (step if step.device == device else step.to(device)).float()
        if schedule:
            lr_t = _state.scalar(lr(local_step), device)
        else:
            lr_t = self._hyper_tensor("learning_rate", device)
        if self._initial_decay > 0.0:
            decay = _state.constant(self._initial_decay, device)  # rounded to float32, as TF
            lr_t = lr_t / (_state.constant(1.0, device) + decay * local_step)
        return lr_t

    def _prepare_local(self, iterations: torch.Tensor, device: torch.device) -> dict[str, Any]:
        """The per-step 0-d float32 tensors the update uses (TF's ``apply_state``).

        ``iterations`` is the int64 step counter (before this step) on ``device``. Subclasses
        add their own entries to the base's ``lr_t`` (and ``momentum`` when it is used).
        """
        coefficients = {"lr_t": self._decayed_lr(iterations, device)}
        if self._momentum:
            coefficients["momentum"] = self._hyper_tensor("momentum", device)
        return coefficients

    def apply_gradients(
        self,
        grads_and_vars: Iterable[tuple[Any, Any]],
        name: str | None = None,
        experimental_aggregate_gradients: bool = True,
    ) -> Any:
        """Apply ``(gradient, variable)`` pairs; None gradients are skipped. Returns ``iterations``."""
        del name, experimental_aggregate_gradients
        pairs = _filter_grads(grads_and_vars)
        variables = [v for _, v in pairs]
        grads = [_state.grad_tensor(g, v) for g, v in pairs]
        grads = self._transform_gradients(grads)
        if self.gradient_transformers:
            transformed = list(zip(grads, variables))
            for fn in self.gradient_transformers:
                transformed = fn(transformed)
            grads = [_state.grad_tensor(g, v) for g, v in transformed]
        self._create_all_weights(variables)
        with torch.no_grad():
            constrained = self._apply_dense_all(variables, grads)
            for variable in constrained:
                _state.assign(variable, variable.constraint(variable))
            _state.target(self._iterations).add_(1)
        return self._iterations

    def _plan(self, variables: list[Any]) -> tuple[list[_Group], list[Any]]:
        """Variables grouped by device and dtype with their slot variables (cached per list)."""
        key = tuple(map(id, variables))
        plan = self._plans.get(key)
        if plan is None:
            by_kind: dict[tuple[Any, Any], list[int]] = {}
            for index, v in enumerate(variables):
                tensor = _state.storage(v)
                by_kind.setdefault((tensor.device, tensor.dtype), []).append(index)
            groups = [
                _Group(
                    device,
                    dtype,
                    indices,
                    [variables[i] for i in indices],
                    {
                        name: [self._slots[id(variables[i])].get(name) for i in indices]
                        for name in self._slot_names
                    },
                )
                for (device, dtype), indices in by_kind.items()
            ]
            constrained = [v for v in variables if getattr(v, "constraint", None) is not None]
            if len(self._plans) >= 16:  # alternating variable lists: keep the cache small
                self._plans.clear()
            plan = self._plans[key] = (groups, constrained)
        return plan

    def _apply_dense_all(self, variables: list[Any], grads: list[torch.Tensor]) -> list[Any]:
        """Update every variable group in place; returns the variables that have a constraint."""
        groups, constrained = self._plan(variables)
        iterations = _state.read(self._iterations)
        coefficients: dict[Any, dict[str, Any]] = {}
        target = _state.target
        for group in groups:
            params = [target(v) for v in group.variables]
            group_grads = [grads[i] for i in group.indices]
            if any(g.dtype != group.dtype for g in group_grads):
                group_grads = [g.to(group.dtype) for g in group_grads]
            slots = {
                name: [None if s is None else target(s) for s in items]
                for name, items in group.slots.items()
            }
            local = coefficients.get(group.device)
            if local is None:
                steps = (
                    iterations if iterations.device == group.device else iterations.to(group.device)
                )
                local = coefficients[group.device] = self._prepare_local(steps, group.device)
            self._apply_group(group, params, group_grads, slots, local)
        return constrained

    def _apply_group(
        self,
        group: _Group,
        params: list[torch.Tensor],
        grads: list[torch.Tensor],
        slots: dict[str, list[torch.Tensor]],
        coefficients: dict[str, Any],
    ) -> None:
        """Update one same-device, same-dtype group (AdamW adds its weight decay here)."""
        self._apply_dense(params, grads, slots, coefficients)

    def _apply_dense(
        self,
        params: list[torch.Tensor],
        grads: list[torch.Tensor],
        slots: dict[str, list[torch.Tensor]],
        coefficients: dict[str, Any],
    ) -> None:
        """Update ``params`` in place from ``grads`` and the step's ``coefficients`` (subclasses)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _apply_dense.")

    def _transform_gradients(self, grads: list[torch.Tensor]) -> list[torch.Tensor]:
        """clipvalue, then clipnorm, then global_clipnorm (tf.keras 2.x order)."""
        if self._clipvalue is not None:
            c = float(self._clipvalue)
            grads = [g.clamp(-c, c) for g in grads]
        if self._clipnorm is not None:
            grads = [_clip_by_norm(g, float(self._clipnorm)) for g in grads]
        if self._global_clipnorm is not None:
            grads = _clip_by_global_norm(grads, float(self._global_clipnorm))
        return grads

    def minimize(
        self,
        loss: Any,
        var_list: Any,
        grad_loss: Any = None,
        name: str | None = None,
        tape: Any = None,
    ) -> Any:
        """Compute gradients of ``loss`` (a tensor with ``tape``, else a zero-arg callable) and apply them."""
        del name
        if callable(var_list):
            var_list = var_list()
        var_list = list(var_list)
        if tape is None:
            if not callable(loss):
                raise ValueError(
                    "`tape` is required when a `Tensor` loss is passed. Received: loss={loss}, tape=None."
                )
            from savedflow.ops.gradient_tape import GradientTape

            with GradientTape() as tape:
                for v in var_list:
                    tape.watch(v)
                loss = loss()
        grads = tape.gradient(loss, var_list, grad_loss)
        return self.apply_gradients(zip(grads, var_list))

    # --- config ------------------------------------------------------------------------------

    def _serialize_hyperparameter(self, name: str) -> Any:
        value = self._hyper[name]
        if isinstance(value, lr_schedule.LearningRateSchedule):
            return lr_schedule.serialize(value)
        if callable(value) and not _state.is_variable(value):
            return value()
        if _state.is_variable(value):
            return float(_state.storage(value).item())
        return value  # before the hyper Variables exist tf.keras writes the value as given

    def _hyper_config(self, *names: str) -> dict[str, Any]:
        """Config entries ``learning_rate``, ``decay`` and the hyper-parameters ``names``."""
        config = {
            "learning_rate": self._serialize_hyperparameter("learning_rate"),
            "decay": self._initial_decay,
        }
        config.update((name, self._serialize_hyperparameter(name)) for name in names)
        return config

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (hyper-parameters as Python numbers)."""
        config: dict[str, Any] = {"name": self._name}
        if self._clipnorm is not None:
            config["clipnorm"] = self._clipnorm
        if self._clipvalue is not None:
            config["clipvalue"] = self._clipvalue
        if self._global_clipnorm is not None:
            config["global_clipnorm"] = self._global_clipnorm
        return config

    @classmethod
    def from_config(
        cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None
    ) -> Optimizer:
        """Rebuild an optimizer from :meth:`get_config` output."""
        config = dict(config)
        if "lr" in config:
            config["learning_rate"] = config.pop("lr")
        config.pop("is_legacy_optimizer", None)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = lr_schedule.deserialize(
                config["learning_rate"], custom_objects=custom_objects
            )
        return cls(**config)


class _Group(NamedTuple):
    """Variables of one device and dtype, updated together by one set of foreach kernels."""

    device: torch.device
    dtype: torch.dtype
    indices: list[int]
    variables: list[Any]
    slots: dict[str, list[Any]]


def descend_by_root(
    params: list[torch.Tensor],
    numerators: list[torch.Tensor],
    second_moments: list[torch.Tensor],
    epsilon: float,
    neg_step: torch.Tensor,
) -> None:
    """``params -= step * numerators / (sqrt(second_moments) + epsilon)`` in place.

    ``neg_step`` is ``-step`` as a 0-d tensor. Where :func:`host_factors` allows it one kernel
    pass does the update; otherwise the numerators are scaled first (``(n * step) / root``,
    TF's order).
    """
    root = torch._foreach_sqrt(second_moments)
    torch._foreach_add_(root, epsilon)
    factors = host_factors(neg_step, len(params))
    if factors is not None:
        torch._foreach_addcdiv_(params, numerators, root, factors)
    else:
        torch._foreach_addcdiv_(params, torch._foreach_mul(numerators, neg_step), root)


def host_factors(factor: torch.Tensor, count: int) -> torch.Tensor | None:
    """``factor`` repeated as the 1-d tensor some foreach kernels take, or None where not usable.

    ``_foreach_addcdiv_`` / ``_foreach_addcmul_`` accept one factor per tensor as a CPU tensor
    they read on the host: one kernel pass instead of two, and free on CPU. Not inside a
    function trace (``torch.compile`` cannot run those overloads on its fake tensors) nor
    for tensors elsewhere than on the CPU (the read would wait for the device).
    """
    if factor.device.type != "cpu" or _state.in_function():
        return None
    return torch.expand_copy(factor, (count,))


def repeat(factor: torch.Tensor, count: int) -> list[torch.Tensor]:
    """A 0-d tensor as the tensor list some foreach kernels take (``_foreach_addcmul_``, ...)."""
    return [factor] * count


def _filter_grads(grads_and_vars: Iterable[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    pairs = list(grads_and_vars)
    kept = [(g, v) for g, v in pairs if g is not None]
    if not kept:
        names = [_state.name_of(v) for _, v in pairs]
        raise ValueError(f"No gradients provided for any variable: {names}.")
    missing = [_state.name_of(v) for g, v in pairs if g is None]
    if missing:
        _log.warning(
            "Gradients do not exist for variables %s when minimizing the loss. If you're using "
            "`model.compile()`, did you forget to provide a `loss` argument?",
            missing,
        )
    return kept


def _clip_by_norm(g: torch.Tensor, clip: float) -> torch.Tensor:
    norm = torch.linalg.vector_norm(g)
    return g * (
        clip / torch.maximum(norm, torch.tensor(clip, dtype=norm.dtype, device=norm.device))
    )


def _clip_by_global_norm(grads: list[torch.Tensor], clip: float) -> list[torch.Tensor]:
    norms = torch._foreach_norm(grads)
    global_norm = torch.linalg.vector_norm(torch.stack([n.to(torch.float32) for n in norms]))
    scale = clip / torch.maximum(global_norm, torch.tensor(clip, device=global_norm.device))
    return [g * scale.to(g.dtype) for g in grads]

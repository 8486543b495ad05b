"""Optimizer steps inside ``savedflow.function``: recorded as a graph, replayed like eager steps.

Replaying the graph N times must leave the variables, slots and ``iterations`` where N eager
``apply_gradients`` calls leave them (float results may differ in the last bit where the graph
orders an operation differently), and the graph must read the step counter and the
hyper-parameter Variables when it runs, not the values seen while tracing.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

import savedflow as tf
from savedflow.keras import optimizers

S = optimizers.schedules
STEPS = 6

CONFIGS: dict[str, Callable[[], optimizers.Optimizer]] = {
    "sgd": lambda: optimizers.SGD(0.1),
    "sgd_momentum": lambda: optimizers.SGD(0.1, momentum=0.9),
    "sgd_nesterov": lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    "adam": lambda: optimizers.Adam(0.01),
    "adam_amsgrad": lambda: optimizers.Adam(0.01, beta_1=0.8, amsgrad=True),
    "adamw": lambda: optimizers.AdamW(0.01, weight_decay=0.1),
    "rmsprop": lambda: optimizers.RMSprop(0.01),
    "rmsprop_momentum": lambda: optimizers.RMSprop(0.01, momentum=0.9),
    "rmsprop_centered": lambda: optimizers.RMSprop(0.01, centered=True),
    "rmsprop_momentum_centered": lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    "adagrad": lambda: optimizers.Adagrad(0.1),
    "exponential_decay": lambda: optimizers.SGD(S.ExponentialDecay(0.1, 2, 0.5), momentum=0.5),
    "exponential_staircase": lambda: optimizers.Adam(
        S.ExponentialDecay(0.1, 2, 0.5, staircase=True)
    ),
    "piecewise_constant": lambda: optimizers.Adam(
        S.PiecewiseConstantDecay([1, 3], [0.1, 0.05, 0.01])
    ),
    "polynomial": lambda: optimizers.RMSprop(S.PolynomialDecay(0.1, 4, 0.01, power=0.5)),
    "polynomial_cycle": lambda: optimizers.SGD(S.PolynomialDecay(0.1, 2, 0.01, cycle=True)),
    "inverse_time": lambda: optimizers.Adagrad(S.InverseTimeDecay(0.1, 2, 0.5, staircase=True)),
    "cosine": lambda: optimizers.AdamW(S.CosineDecay(0.1, 4, alpha=0.1)),
    "cosine_warmup": lambda: optimizers.Adam(
        S.CosineDecay(0.0, 3, warmup_target=0.1, warmup_steps=2)
    ),
    "adam_decay": lambda: optimizers.Adam(0.01, decay=0.1),
    "sgd_decay": lambda: optimizers.SGD(0.1, momentum=0.5, decay=0.2),
    "clipvalue": lambda: optimizers.SGD(0.1, clipvalue=0.3),
    "clipnorm": lambda: optimizers.Adam(0.01, clipnorm=0.5),
    "global_clipnorm": lambda: optimizers.RMSprop(0.01, global_clipnorm=0.5),
}


def _problem(seed: int = 1) -> tuple[list, list[list[torch.Tensor]]]:
    gen = torch.Generator().manual_seed(seed)
    variables = [
        tf.Variable(torch.randn(4, 3, generator=gen), name="kernel"),
        tf.Variable(torch.randn(3, generator=gen), name="bias"),
    ]
    grads = [
        [torch.randn(4, 3, generator=gen), torch.randn(3, generator=gen)] for _ in range(STEPS)
    ]
    return variables, grads


def _state(opt: optimizers.Optimizer, variables: list) -> list[np.ndarray]:
    slots = [opt.get_slot(v, name).numpy() for name in opt.get_slot_names() for v in variables]
    return [v.numpy() for v in variables] + slots + [opt.iterations.numpy()]


def _assert_same(graph: list[np.ndarray], eager: list[np.ndarray]) -> None:
    assert len(graph) == len(eager)
    for got, want in zip(graph, eager):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def _graph_step(opt: optimizers.Optimizer, variables: list, runs: list[int]) -> tf.function:
    @tf.function
    def step(g0: torch.Tensor, g1: torch.Tensor) -> None:
        runs.append(1)
        opt.apply_gradients(zip([g0, g1], variables))

    return step


@pytest.mark.parametrize("config", list(CONFIGS))
def test_apply_gradients_records_a_graph_that_replays_like_eager_steps(config: str) -> None:
    variables, grads = _problem()
    opt = CONFIGS[config]()
    for g in grads:
        opt.apply_gradients(zip(g, variables))
    eager = _state(opt, variables)

    variables, grads = _problem()
    opt, runs = CONFIGS[config](), []
    step = _graph_step(opt, variables, runs)
    for g in grads:
        step(*g)
    concrete = step.get_concrete_function(*grads[0])
    assert concrete.function_mode == "graph", concrete._not_graphable_reason
    assert len(runs) <= 2  # creating the slots, then recording: later steps replay the graph
    assert int(opt.iterations.numpy()) == STEPS
    _assert_same(_state(opt, variables), eager)


def _run_with_changes(graph: bool, make: Callable[[], optimizers.Optimizer], change) -> list:
    variables, grads = _problem(seed=2)
    opt, runs = make(), []
    step = _graph_step(opt, variables, runs) if graph else None
    for index, g in enumerate(grads):
        change(opt, index)
        if step is None:
            opt.apply_gradients(zip(g, variables))
        else:
            step(*g)
    if step is not None:
        assert step.get_concrete_function(*grads[0]).function_mode == "graph"
        assert len(runs) <= 2
    return _state(opt, variables)


@pytest.mark.parametrize(
    "make,change",
    [
        (lambda: optimizers.Adam(0.01), lambda o, i: i == 3 and setattr(o, "beta_1", 0.5)),
        (lambda: optimizers.Adam(0.01), lambda o, i: i == 3 and setattr(o, "beta_2", 0.9)),
        (
            lambda: optimizers.Adam(0.01, amsgrad=True),
            lambda o, i: o.learning_rate.assign(0.01 * i),
        ),
        (
            lambda: optimizers.SGD(0.1, momentum=0.9),
            lambda o, i: i == 4 and setattr(o, "momentum", 0.1),
        ),
        (
            lambda: optimizers.RMSprop(0.01, centered=True),
            lambda o, i: i == 2 and setattr(o, "rho", 0.5),
        ),
        (lambda: optimizers.Adagrad(0.1), lambda o, i: setattr(o, "lr", 0.1 / (i + 1))),
        (lambda: optimizers.Adam(0.01), lambda o, i: i == 4 and o.iterations.assign(100)),
        (
            lambda: optimizers.SGD(S.PiecewiseConstantDecay([2], [0.1, 0.01])),
            lambda o, i: i == 4 and o.iterations.assign(0),
        ),
    ],
    ids=[
        "beta_1",
        "beta_2",
        "learning_rate",
        "momentum",
        "rho",
        "lr",
        "iterations",
        "schedule_step",
    ],
)
def test_graph_reads_hyper_parameters_and_step_when_it_runs(make, change) -> None:
    """Hyper-parameter Variables and ``iterations`` assigned between graph calls take effect."""
    eager = _run_with_changes(False, make, change)
    graph = _run_with_changes(True, make, change)
    _assert_same(graph, eager)


def _run_sizes(use_graph: bool) -> list[np.ndarray]:
    variables, grads = _problem(seed=3)
    sizes = [torch.ones(2 + i % 3) for i in range(STEPS)]
    opt = optimizers.RMSprop(0.01, momentum=0.5, centered=True)

    def step(g0: torch.Tensor, g1: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        opt.apply_gradients(zip([g0 * x.sum(), g1], variables))
        return x.sum()

    fn = tf.function(step, reduce_retracing=True) if use_graph else step
    for g, x in zip(grads, sizes):
        fn(*g, x)
    if use_graph:
        concrete = fn.get_concrete_function(*grads[0], sizes[0])
        assert concrete.function_mode == "graph"
        assert len(concrete._graphs) == 3
    return _state(opt, variables)


def test_a_new_shape_records_another_graph_with_the_same_updates() -> None:
    """``reduce_retracing`` functions trace each new size again (the stand-in-tensor path)."""
    _assert_same(_run_sizes(True), _run_sizes(False))


@pytest.mark.parametrize(
    "schedule",
    [
        S.ExponentialDecay(0.1, 3, 0.5, staircase=True),
        S.PiecewiseConstantDecay([2, 5], [1.0, 0.5, 0.1]),
        S.PolynomialDecay(0.1, 4, 0.01, power=2.0, cycle=True),
        S.InverseTimeDecay(0.1, 2, 0.5),
        S.CosineDecay(0.0, 5, warmup_target=0.1, warmup_steps=3),
    ],
    ids=lambda s: type(s).__name__,
)
def test_schedules_record_tensor_steps_as_graphs(schedule) -> None:
    fn = tf.function(lambda step: schedule(step))
    steps = [torch.tensor(float(i)) for i in range(10)]
    got = [float(fn(step)) for step in steps]
    assert fn.get_concrete_function(steps[0]).function_mode == "graph"
    assert got == [float(schedule(i)) for i in range(10)]

"""``savedflow.function(jit_compile=True)``: recorded graphs compiled with torch.compile."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import pytest
import torch

import savedflow as tf
from savedflow.ops import function_jit, fx_random


def _step(w: tf.Variable, x: torch.Tensor) -> torch.Tensor:
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.nn.relu(tf.matmul(x, w)) ** 2)
    w.assign_sub(0.01 * tape.gradient(loss, w))
    return loss


@pytest.mark.slow  # torch.compile of a small graph: a few seconds
def test_jit_compiled_steps_match_uncompiled_steps() -> None:
    x = tf.constant([[1.0, 2.0, 0.5], [0.3, -0.2, 1.0]])
    results = []
    for jit in (False, True):
        w = tf.Variable(tf.ones([3, 4]) * 0.1)
        f = tf.function(lambda x, w=w: _step(w, x), jit_compile=jit)
        losses = [float(f(x)) for _ in range(5)]
        concrete = f.get_concrete_function(x)
        assert f.jit_compile is jit and concrete.function_mode == "graph"
        results.append((losses, w.numpy()))
    compiled = concrete._graphs[next(iter(concrete._graphs))]
    assert isinstance(compiled, function_jit.CompiledGraph) and not compiled._failed
    assert results[0][0][-1] < results[0][0][0]  # the steps do train
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-6)
    torch.testing.assert_close(
        torch.from_numpy(results[1][1]), torch.from_numpy(results[0][1]), rtol=1e-6, atol=1e-7
    )


def test_a_graph_the_compiler_rejects_runs_uncompiled_with_a_warning(monkeypatch) -> None:
    monkeypatch.setenv("SAVEDFLOW_JIT_BACKEND", "no_such_backend")
    f = tf.function(lambda x: x * 2 + 1, jit_compile=True)
    assert f(tf.constant([1.0])).tolist() == [3.0]  # first call: recorded while running
    with pytest.warns(RuntimeWarning, match="running its graph uncompiled"):
        assert f(tf.constant([2.0])).tolist() == [5.0]
    assert f(tf.constant([3.0])).tolist() == [7.0]


@pytest.mark.slow  # torch.compile of a small graph: a few seconds
@pytest.mark.parametrize("autotune", ["1", "0"])
def test_on_cpu_the_faster_of_compiled_and_recorded_graph_is_kept(monkeypatch, autotune) -> None:
    monkeypatch.setenv("SAVEDFLOW_JIT_AUTOTUNE", autotune)
    w = tf.Variable(tf.ones([3, 4]) * 0.1)
    f = tf.function(lambda x: _step(w, x), jit_compile=True)
    x = tf.constant([[1.0, 2.0, 0.5], [0.3, -0.2, 1.0]])
    f(x)  # recorded while running
    f(x)  # compiled
    concrete = f.get_concrete_function(x)
    compiled = concrete._graphs[next(iter(concrete._graphs))]
    if autotune == "0":
        assert compiled.chosen == "compiled"
        return
    assert compiled.chosen is None  # timing both
    for _ in range(2 * function_jit.TRIALS):
        f(x)
    assert compiled.chosen in ("compiled", "graph")
    before = w.numpy()
    f(x)
    assert not np.array_equal(before, w.numpy())  # the kept graph still updates the Variable


# --- random ops ------------------------------------------------------------------------------


def _noisy_step(w: tf.Variable, generator: torch.Generator) -> Callable:
    """A training step drawing from the default generator and from ``generator``."""

    def step(x):
        with tf.GradientTape() as tape:
            h = tf.matmul(x, w)
            h = h * (torch.rand(h.shape) > 0.3).to(h.dtype) / 0.7  # dropout, default generator
            h = h + 0.01 * torch.randn(h.shape, generator=generator)  # explicit generator
            loss = tf.reduce_sum(tf.nn.relu(h) ** 2)
        w.assign_sub(0.01 * tape.gradient(loss, w))
        return loss

    return step


class _Run:
    """Noisy training steps, plain or jit-compiled; ``force`` fixes the timing phase's pick."""

    def __init__(self, jit: bool, force: str | None = None):
        self.w = tf.Variable(tf.ones([3, 4]) * 0.1)
        generator = torch.Generator()
        self.f = tf.function(_noisy_step(self.w, generator), jit_compile=jit)
        self.x = tf.constant([[1.0, 2.0, 0.5], [0.3, -0.2, 1.0]])
        torch.manual_seed(0)
        generator.manual_seed(1)
        self.losses = [float(self.f(self.x)) for _ in range(2)]  # recorded, then compiled
        concrete = self.f.get_concrete_function(self.x)
        self.graph = concrete._graphs[next(iter(concrete._graphs))]
        if force is not None:  # earlier timings that make the choice deterministic
            slow, fast = [1.0] * (function_jit.TRIALS - 1), [0.0] * (function_jit.TRIALS - 1)
            self.graph._timings = {
                "compiled": fast if force == "compiled" else slow,
                "graph": slow if force == "compiled" else fast,
            }

    def steps(self, count: int) -> _Run:
        self.losses += [float(self.f(self.x)) for _ in range(count)]
        return self


@pytest.mark.slow  # torch.compile of a small graph (twice, with the cache): several seconds
@pytest.mark.parametrize("force", ["graph", "compiled"])
def test_random_steps_give_the_same_variables_whichever_graph_the_timing_keeps(
    monkeypatch, force
) -> None:
    monkeypatch.setenv("SAVEDFLOW_JIT_AUTOTUNE", "1")
    plain = _Run(jit=False).steps(8)
    run = _Run(jit=True, force=force).steps(8)
    assert run.graph.chosen == force
    assert run.graph._prefix is not None  # the explicit generator's draws run before the graph
    assert plain.losses[-1] < plain.losses[0]  # the steps do train
    np.testing.assert_allclose(run.losses, plain.losses, rtol=1e-5)
    np.testing.assert_allclose(run.w.numpy(), plain.w.numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.slow  # torch.compile of a small graph: a few seconds
def test_without_autotune_the_compiled_graph_always_runs(monkeypatch) -> None:
    monkeypatch.setenv("SAVEDFLOW_JIT_AUTOTUNE", "0")
    plain = _Run(jit=False).steps(10)
    run = _Run(jit=True)
    assert run.graph.chosen == "compiled" and run.graph._prefix is not None

    def refuse(*inputs):
        raise AssertionError("the recorded graph ran")

    # The draws were split off, so the compiled part is another GraphModule than the recorded
    # graph, whose forward must not run again.
    monkeypatch.setattr(run.graph._graph_module, "forward", refuse)
    run.steps(10)
    assert run.graph.chosen == "compiled"
    assert run.graph._timings == {"compiled": [], "graph": []}
    np.testing.assert_allclose(run.losses, plain.losses, rtol=1e-5)
    np.testing.assert_allclose(run.w.numpy(), plain.w.numpy(), rtol=1e-5, atol=1e-7)


def test_draws_from_a_generator_depending_on_inputs_run_uncompiled_silently(caplog) -> None:
    generator = torch.Generator().manual_seed(0)

    def sample(x):
        return torch.bernoulli(torch.sigmoid(x), generator=generator) * x

    f = tf.function(sample, jit_compile=True)
    x = torch.linspace(-2.0, 2.0, 16)
    expected = [sample(x) for _ in range(3)]
    generator.manual_seed(0)
    with caplog.at_level(logging.INFO, logger="savedflow"):
        got = [f(x) for _ in range(3)]  # warnings are errors here: none may be issued
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    concrete = f.get_concrete_function(x)
    assert concrete._graphs[next(iter(concrete._graphs))].chosen == "graph"
    assert "runs uncompiled" in caplog.text


def test_split_random_moves_explicit_draws_ahead() -> None:
    generator = torch.Generator().manual_seed(0)
    fresh = fx_random.fresh_generator(5)

    def body(x):
        noise = torch.empty(x.shape).normal_(generator=generator)
        keep = torch.rand(x.shape, generator=fresh) > 0.5
        return x * keep + noise + torch.rand(x.shape)

    f = tf.function(body)
    x = torch.ones(6)
    f(x)
    graph = f.get_concrete_function(x).graph
    prefix, main = function_jit.split_random(graph)
    assert prefix is not None and main is not graph
    assert not any(isinstance(v, torch.Generator) for v in vars(main).values())
    torch.manual_seed(1)
    generator.manual_seed(2)
    expected = graph(x)
    torch.manual_seed(1)
    generator.manual_seed(2)
    got = main(x, *prefix())
    torch.testing.assert_close(got, expected, rtol=0, atol=0)


@pytest.mark.slow  # torch.compile of a Keras train step: several seconds
@pytest.mark.parametrize("seed", [None, 3])
def test_keras_dropout_model_compiles_silently_and_trains_like_graph_steps(
    monkeypatch, caplog, seed
) -> None:
    from savedflow import keras

    def fit(jit: bool) -> tuple[list[float], list[np.ndarray]]:
        keras.backend.clear_session()
        tf.random.set_seed(0)
        model = keras.Sequential(
            [
                keras.Input((4,)),
                keras.layers.Dense(8, activation="relu"),
                keras.layers.Dropout(0.5, seed=seed),
                keras.layers.Dense(1),
            ]
        )
        model.compile(optimizer="sgd", loss="mse", jit_compile=jit)
        x = np.random.RandomState(0).rand(64, 4).astype("float32")
        history = model.fit(x, x.sum(1, keepdims=True), epochs=3, batch_size=16, verbose=0)
        return history.history["loss"], model.get_weights()

    plain_loss, plain_weights = fit(False)
    graphs: list[function_jit.CompiledGraph] = []
    original_init = function_jit.CompiledGraph.__init__

    def collect(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        graphs.append(self)

    monkeypatch.setattr(function_jit.CompiledGraph, "__init__", collect)
    with caplog.at_level(logging.INFO, logger="savedflow"):
        jit_loss, jit_weights = fit(True)  # warnings are errors here: none may be issued
    assert "uncompiled" not in caplog.text
    train_graphs = [g for g in graphs if g._name == "_train_body"]
    assert train_graphs and all(g._compiled is not None and not g._failed for g in train_graphs)
    assert all((g._prefix is not None) == (seed is not None) for g in train_graphs)
    np.testing.assert_allclose(jit_loss, plain_loss, rtol=1e-5)
    for a, b in zip(jit_weights, plain_weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_compiler_failure_after_the_draws_keeps_the_python_sequence(monkeypatch) -> None:
    from torch._dynamo import register_backend

    @register_backend(name="savedflow_test_failing")
    def failing(gm, example_inputs):
        raise RuntimeError("refused")

    monkeypatch.setenv("SAVEDFLOW_JIT_BACKEND", "savedflow_test_failing")
    generator = torch.Generator()

    def body(x):
        return x * torch.rand(x.shape, generator=generator) + torch.rand(x.shape)

    x = torch.ones(5)
    torch.manual_seed(0)
    generator.manual_seed(1)
    expected = [body(x) for _ in range(4)]
    torch.manual_seed(0)
    generator.manual_seed(1)
    f = tf.function(body, jit_compile=True)
    got = [f(x)]
    with pytest.warns(RuntimeWarning, match="running its graph uncompiled"):
        got.append(f(x))  # compiles: the explicit draws ran before the compiler failed
    got += [f(x) for _ in range(2)]
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b, rtol=0, atol=0)

"""``savedflow.function(jit_compile=True)``: recorded graphs compiled with torch.compile."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import savedflow as tf
from savedflow.ops import function_jit


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

"""Random draws inside savedflow.function graphs: fresh numbers on every call, as in TF.

A graph records the generator each random op draws from, so replaying it continues that
generator's sequence: calls of the function give the numbers plain Python calls would give.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F

import savedflow as tf
from savedflow.ops import fx_random


def _mask(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    return x * (torch.rand(x.shape, generator=generator) > 0.5)


def _assert_same(got: list, expected: list) -> None:
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        for u, v in zip(tf.nest.flatten(a), tf.nest.flatten(b)):
            torch.testing.assert_close(u, v, rtol=0, atol=0)


def _mode(f: Any, *args: Any) -> str:
    return f.get_concrete_function(*args).function_mode


def test_explicit_generator_sequence_matches_python_calls() -> None:
    x = torch.ones(64)
    generator = torch.Generator().manual_seed(7)
    expected = [_mask(x, generator) for _ in range(4)]
    generator.manual_seed(7)
    f = tf.function(lambda t: _mask(t, generator))
    got = [f(x) for _ in range(4)]
    assert f.get_concrete_function(x).function_mode == "graph"
    _assert_same(got, expected)
    assert not torch.equal(got[0], got[1])  # a fresh draw per call


def test_default_generator_sequence_matches_python_calls() -> None:
    x = torch.ones(64)
    torch.manual_seed(3)
    expected = [_mask(x) for _ in range(3)]
    torch.manual_seed(3)
    f = tf.function(_mask)
    got = [f(x) for _ in range(3)]
    assert f.get_concrete_function(x).function_mode == "graph"
    _assert_same(got, expected)


def test_tracing_a_new_shape_draws_nothing_extra() -> None:
    generator = torch.Generator().manual_seed(11)
    f = tf.function(lambda t: _mask(t, generator), reduce_retracing=True)
    f(torch.ones(8))
    f(torch.ones(8))
    after_two = generator.get_state()
    reference = torch.Generator()
    reference.set_state(after_two)
    # a new size records another graph; only the call itself draws
    out = f(torch.ones(16))
    torch.testing.assert_close(out, _mask(torch.ones(16), reference), rtol=0, atol=0)
    torch.testing.assert_close(generator.get_state(), reference.get_state(), rtol=0, atol=0)


def test_manual_seed_between_calls_restarts_the_sequence() -> None:
    x = torch.ones(32)
    f = tf.function(_mask)
    results = []
    for _ in range(3):
        torch.manual_seed(5)
        results.append(f(x))
    torch.manual_seed(5)
    expected = _mask(x)
    _assert_same(results, [expected] * 3)
    assert _mode(f, x) == "graph"


# --- nesting, tapes, Variables ----------------------------------------------------------------


@pytest.mark.parametrize("explicit", [True, False])
def test_function_calling_a_random_function_matches_python(explicit: bool) -> None:
    generator = torch.Generator() if explicit else None

    def reseed() -> None:
        generator.manual_seed(2) if explicit else torch.manual_seed(2)

    def inner_py(t):
        return _mask(t, generator)

    inner = tf.function(inner_py)
    outer = tf.function(lambda t: inner(t) + 2 * inner(t + 1))
    x = torch.ones(32)
    reseed()
    expected = [inner_py(x) for _ in range(2)] + [
        inner_py(x) + 2 * inner_py(x + 1) for _ in range(3)
    ]
    reseed()
    got = [inner(x) for _ in range(2)] + [outer(x) for _ in range(3)]  # inner has a graph first
    _assert_same(got, expected)
    assert _mode(outer, x) == "graph" and _mode(inner, x) == "graph"


def test_gradients_through_a_dropout_mask_drawn_in_a_graph() -> None:
    w = tf.Variable(torch.linspace(0.5, 2.0, 16))

    @tf.function
    def masked_loss(x):
        mask = (torch.rand(x.shape) > 0.5).to(x.dtype) * 2.0
        return tf.reduce_sum(x * w * mask), mask

    x = torch.arange(16.0)
    masks = []
    for _ in range(4):
        with tf.GradientTape() as tape:
            loss, mask = masked_loss(x)
        torch.testing.assert_close(tape.gradient(loss, w), x * mask)
        torch.testing.assert_close(loss, (x * w.value() * mask).sum())
        masks.append(mask)
    assert _mode(masked_loss, x) == "graph"
    assert not all(torch.equal(masks[0], m) for m in masks[1:])  # a new mask per call


def test_training_step_with_dropout_matches_python_steps() -> None:
    x = torch.linspace(-1.0, 1.0, 8).reshape(2, 4)

    def make_step(w: tf.Variable) -> Callable:
        def step(x):
            with tf.GradientTape() as tape:
                h = x @ w
                h = h * (torch.rand(h.shape) > 0.3).to(h.dtype) / 0.7
                loss = tf.reduce_sum(h**2)
            w.assign_sub(0.1 * tape.gradient(loss, w))
            return loss

        return step

    results = []
    for wrap in (lambda fn: fn, tf.function):
        w = tf.Variable(torch.full((4, 3), 0.1))
        step = wrap(make_step(w))
        torch.manual_seed(7)
        losses = [step(x) for _ in range(4)]
        results.append((losses, w.numpy()))
    _assert_same(results[1][0], results[0][0])
    assert (results[1][1] == results[0][1]).all()
    assert _mode(step, x) == "graph"


def test_random_draws_written_to_a_variable_match_python() -> None:
    v = tf.Variable(torch.zeros(8))

    def walk(x):
        noise = torch.randn(x.shape)
        v.assign_add(noise * x)
        return noise

    torch.manual_seed(4)
    expected = [walk(torch.ones(8)).clone() for _ in range(4)]
    expected_v = v.numpy().copy()
    v.assign(torch.zeros(8))
    f = tf.function(walk)
    torch.manual_seed(4)
    got = [f(torch.ones(8)) for _ in range(4)]
    _assert_same(got, expected)
    assert (v.numpy() == expected_v).all()
    assert _mode(f, torch.ones(8)) == "graph"


# --- get_concrete_function --------------------------------------------------------------------


@pytest.mark.parametrize("spec", [False, True])
def test_get_concrete_function_draws_no_random_numbers(spec: bool) -> None:
    generator = torch.Generator().manual_seed(1)
    f = tf.function(lambda t: _mask(t, generator) + _mask(t) + tf.random.normal([1], seed=3))
    arg = tf.TensorSpec([None], tf.float32) if spec else torch.ones(8)
    tf.random.set_seed(4)
    states = [generator.get_state(), torch.get_rng_state()]
    reference = tf.random.normal([1], seed=3)
    tf.random.set_seed(4)
    concrete = f.get_concrete_function(arg)
    assert concrete.function_mode == "graph"
    torch.testing.assert_close(generator.get_state(), states[0], rtol=0, atol=0)
    torch.testing.assert_close(torch.get_rng_state(), states[1], rtol=0, atol=0)
    torch.testing.assert_close(tf.random.normal([1], seed=3), reference, rtol=0, atol=0)


def test_calls_after_get_concrete_function_continue_the_python_sequence() -> None:
    generator = torch.Generator()
    x = torch.ones(32)

    def body(t):
        return _mask(t, generator) + _mask(t)

    f = tf.function(body)
    generator.manual_seed(9)
    torch.manual_seed(9)
    expected = [body(x) for _ in range(3)]
    generator.manual_seed(9)
    torch.manual_seed(9)
    f.get_concrete_function(x)
    _assert_same([f(x) for _ in range(3)], expected)


# --- mixed random ops ------------------------------------------------------------------------

_OPS: dict[str, Callable[[torch.Tensor, torch.Generator | None], torch.Tensor]] = {
    "randn": lambda t, g: t + torch.randn(t.shape, generator=g),
    "rand_device": lambda t, g: t + torch.rand(t.shape, generator=g, device=t.device),
    "randint": lambda t, g: t + torch.randint(0, 5, t.shape, generator=g, device=t.device),
    "bernoulli": lambda t, g: torch.bernoulli(t * 0.5, generator=g),
    "bernoulli_": lambda t, g: torch.empty_like(t).bernoulli_(0.3, generator=g) * t,
    "normal_": lambda t, g: torch.empty(t.shape).normal_(2.0, 3.0, generator=g) + t,
    "normal": lambda t, g: torch.normal(t, t * 2, generator=g),
    "randperm": lambda t, g: t[torch.randperm(t.shape[0], generator=g)],
    "multinomial": lambda t, g: torch.multinomial(t + 1, 3, generator=g).to(t.dtype),
    "poisson": lambda t, g: torch.poisson(t * 3, generator=g),  # generator passed positionally
    "exponential_": lambda t, g: torch.empty_like(t).exponential_(generator=g),
    "two_draws_one_unused": lambda t, g: (torch.rand(3, generator=g), t * torch.rand(1))[1],
}
_DEFAULT_ONLY: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "dropout": lambda t: F.dropout(t, 0.5, training=True),
    "rand_like": lambda t: torch.rand_like(t) * t,
    "randn_device": lambda t: torch.randn(3, device="cpu").sum() + t,
    "rrelu": lambda t: F.rrelu(t - 0.5, training=True),
    "standard_gamma": lambda t: torch._standard_gamma(t + 1),
}


def _python_and_graph(fn: Callable, x: torch.Tensor, reseed: Callable[[], None]) -> None:
    f = tf.function(fn)
    reseed()
    expected = [fn(x) for _ in range(4)]
    reseed()
    got = [f(x) for _ in range(4)]
    assert _mode(f, x) == "graph", f.get_concrete_function(x)._not_graphable_reason
    _assert_same(got, expected)


@pytest.mark.parametrize("name", sorted(_OPS))
@pytest.mark.parametrize("explicit", [True, False])
def test_random_op_in_a_graph_matches_python(name: str, explicit: bool) -> None:
    generator = torch.Generator() if explicit else None
    x = torch.linspace(0.1, 2.0, 12).reshape(4, 3)

    def reseed() -> None:
        torch.manual_seed(3)
        if explicit:
            generator.manual_seed(4)

    _python_and_graph(lambda t: _OPS[name](t, generator), x, reseed)


@pytest.mark.parametrize("name", sorted(_DEFAULT_ONLY))
def test_random_op_without_generator_argument_matches_python(name: str) -> None:
    x = torch.linspace(0.1, 2.0, 12).reshape(4, 3)
    _python_and_graph(_DEFAULT_ONLY[name], x, lambda: torch.manual_seed(3))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks a machine without CUDA")
def test_cuda_random_op_without_cuda_raises_torchs_own_error(monkeypatch) -> None:
    def no_cuda(*args, **kwargs):
        raise AssertionError("torch.cuda was queried")

    monkeypatch.setattr(torch.cuda, "current_device", no_cuda)
    assert fx_random.default_generator(torch.device("cuda")) is None
    with pytest.raises(Exception) as eager:
        torch.rand(2, device="cuda")
    f = tf.function(lambda t: t + torch.rand(2, device="cuda"))
    with pytest.raises(type(eager.value)) as graph:
        f(torch.zeros(2))
    assert str(graph.value) == str(eager.value)


# --- savedflow.random ops ----------------------------------------------------------------------


def _savedflow_draws(x: torch.Tensor) -> tuple[torch.Tensor, ...]:
    return (
        x + tf.random.uniform([2], seed=1),
        tf.random.normal([3]),
        tf.random.truncated_normal([4], seed=4),
        tf.random.uniform([3], 0, 10, dtype=tf.int32),
        tf.random.shuffle(tf.range(5)),
        tf.random.categorical(tf.math.log([[0.2, 0.8]]), 4),
        tf.nn.dropout(tf.ones([6]), 0.5, seed=2),
        tf.nn.dropout(tf.ones([4]), 0.5),
    )


def test_savedflow_random_ops_are_recorded_with_the_eager_sequence() -> None:
    x = tf.zeros([2])
    tf.random.set_seed(5)
    expected = [_savedflow_draws(x) for _ in range(3)]
    f = tf.function(_savedflow_draws)
    tf.random.set_seed(5)
    got = [f(x) for _ in range(3)]
    assert _mode(f, x) == "graph"
    _assert_same(got, expected)
    assert not torch.equal(got[0][0], got[1][0])  # TF: each call draws anew
    tf.random.set_seed(5)  # TF: set_seed makes the calls repeat the same sequence
    _assert_same([f(x) for _ in range(3)], expected)


def test_op_seed_stream_is_shared_with_eager_calls() -> None:
    @tf.function
    def draw():
        return tf.random.uniform([2], seed=1)

    tf.random.set_seed(3)
    expected = [tf.random.uniform([2], seed=1) for _ in range(3)]
    tf.random.set_seed(3)
    got = [draw(), tf.random.uniform([2], seed=1), draw()]
    _assert_same(got, expected)


def test_truncated_normal_stays_within_two_stddevs() -> None:
    t = tf.random.truncated_normal([20000], mean=1.0, stddev=2.0, dtype=tf.float64)
    assert float(t.min()) >= -3.0 and float(t.max()) <= 5.0
    assert abs(float(t.mean()) - 1.0) < 0.05
    assert abs(float(t.std()) - 2.0 * 0.8796256610342398) < 0.05


# --- generators made per call -----------------------------------------------------------------


def _seeded_noise(t: torch.Tensor) -> torch.Tensor:
    return t + torch.rand(t.shape, generator=fx_random.fresh_generator(1))


def test_fresh_generator_made_per_call_repeats_its_numbers_in_graphs() -> None:
    x = torch.zeros(3)
    f = tf.function(_seeded_noise)
    _assert_same([f(x) for _ in range(3)], [_seeded_noise(x)] * 3)
    assert _mode(f, x) == "graph"
    outer = tf.function(lambda t: f(t) * 2)  # inlines f's graph, restart included
    _assert_same([outer(x) for _ in range(3)], [_seeded_noise(x) * 2] * 3)
    twice = tf.function(lambda t: f(t) - f(t))
    _assert_same([twice(x) for _ in range(2)], [torch.zeros(3)] * 2)


# --- memory -----------------------------------------------------------------------------------


def test_graphs_keep_no_tensor_of_the_recorded_run_alive() -> None:
    w = tf.Variable(torch.ones(64, 64))
    generator = torch.Generator().manual_seed(0)
    seen: list[weakref.ref] = []

    @tf.function
    def step(x):
        h = torch.tanh(x @ w)
        mask = torch.rand(h.shape, generator=generator) > 0.5
        out = h * mask
        seen.extend(weakref.ref(t) for t in (h, mask, out))
        return out

    x = torch.ones(64, 64)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(step(x))  # recorded under a tape: outputs carry autograd graphs
    tape.gradient(loss, w)
    del tape, loss
    step(x)
    gc.collect()
    assert seen and all(ref() is None for ref in seen)
    graph = step.get_concrete_function(x).graph
    generators = [v for v in vars(graph).values() if isinstance(v, torch.Generator)]
    assert len(generators) == 1


# --- devices ----------------------------------------------------------------------------------


def test_arguments_on_another_device_get_a_graph_of_their_own() -> None:
    # meta tensors stand in for a second device (no GPU needed): a graph recorded on the CPU
    # holds CPU constants and generators and must not serve them.
    @tf.function
    def f(x):
        return x + torch.ones(x.shape, device=x.device) + torch.rand(x.shape, device=x.device)

    on_cpu = f(torch.zeros(3))
    on_meta = f(torch.zeros(3, device="meta"))
    assert on_cpu.device.type == "cpu" and on_meta.device.type == "meta"
    assert on_meta.shape == (3,)
    assert f(torch.zeros(3)).device.type == "cpu"
    assert f.experimental_get_tracing_count() == 1  # as in TF: one trace, placed per call


def test_call_observers_get_the_graph_module_of_graph_calls(monkeypatch) -> None:
    from savedflow.ops import function_trace

    seen = []
    monkeypatch.setattr(function_trace, "call_observers", [lambda fn, graph: seen.append(graph)])
    for jit in (False, True):
        seen.clear()
        f = tf.function(lambda t: _mask(t, torch.Generator().manual_seed(0)), jit_compile=jit)
        f(torch.ones(4))  # recorded while running
        if jit:
            monkeypatch.setenv("SAVEDFLOW_JIT_BACKEND", "eager")
        f(torch.ones(4))  # runs the graph
        assert len(seen) == 2 and all(isinstance(g, torch.fx.GraphModule) for g in seen)
        assert seen[1] is f.get_concrete_function(torch.ones(4)).graph

"""Random draws inside savedflow.function graphs: fresh numbers on every call, as in TF.

A graph records the generator each random op draws from, so replaying it continues that
generator's sequence: calls of the function give the numbers plain Python calls would give.
"""

from __future__ import annotations

import torch

import savedflow as tf


def _mask(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    return x * (torch.rand(x.shape, generator=generator) > 0.5)


def test_explicit_generator_sequence_matches_python_calls() -> None:
    x = torch.ones(64)
    generator = torch.Generator().manual_seed(7)
    expected = [_mask(x, generator) for _ in range(4)]
    generator.manual_seed(7)
    f = tf.function(lambda t: _mask(t, generator))
    got = [f(x) for _ in range(4)]
    assert f.get_concrete_function(x).function_mode == "graph"
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.equal(got[0], got[1])  # a fresh draw per call


def test_default_generator_sequence_matches_python_calls() -> None:
    x = torch.ones(64)
    torch.manual_seed(3)
    expected = [_mask(x) for _ in range(3)]
    torch.manual_seed(3)
    f = tf.function(_mask)
    got = [f(x) for _ in range(3)]
    assert f.get_concrete_function(x).function_mode == "graph"
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


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

"""Optimizer update math, state layout and config against tf_keras 2.x (legacy optimizers)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

import savedflow as tf
from savedflow.keras import optimizers

REF = np.load(os.path.join(os.path.dirname(__file__), "data", "optimizer_reference.npz"))
CASES = json.loads(str(REF["cases"]))


def _run(class_name: str, kwargs: dict) -> tuple[list, optimizers.Optimizer]:
    variables = [
        tf.Variable(REF["inputs/var0"], name="a"),
        tf.Variable(REF["inputs/var1"], name="b"),
    ]
    opt = getattr(optimizers, class_name)(**kwargs)
    for g0, g1 in zip(REF["inputs/grads0"], REF["inputs/grads1"]):
        opt.apply_gradients(zip([torch.tensor(g0), torch.tensor(g1)], variables))
    return variables, opt


@pytest.mark.parametrize(
    "case,class_name,kwargs", CASES["optimizers"], ids=[c[0] for c in CASES["optimizers"]]
)
def test_update_math_matches_tf_keras(case: str, class_name: str, kwargs: dict) -> None:
    variables, opt = _run(class_name, kwargs)
    for index, variable in enumerate(variables):
        np.testing.assert_allclose(
            variable.numpy(), REF[f"{case}/var{index}"], rtol=2e-5, atol=2e-6
        )
    slot_keys = sorted({k.split("/")[2] for k in REF.files if k.startswith(f"{case}/slot/")})
    if class_name != "AdamW":
        assert sorted(opt.get_slot_names()) == slot_keys
    for slot in slot_keys:
        for index, variable in enumerate(variables):
            np.testing.assert_allclose(
                opt.get_slot(variable, slot).numpy(),
                REF[f"{case}/slot/{slot}/{index}"],
                rtol=2e-5,
                atol=2e-6,
            )
    assert int(opt.iterations.numpy()) == len(REF["inputs/grads0"])


@pytest.mark.parametrize("index", range(len(CASES["schedules"])))
def test_schedules_match_tf_keras(index: int) -> None:
    class_name, kwargs = CASES["schedules"][index]
    schedule = getattr(optimizers.schedules, class_name)(**kwargs)
    values = [float(schedule(step)) for step in range(10)]
    np.testing.assert_allclose(values, REF[f"schedule{index}"], rtol=1e-6)
    clone = optimizers.schedules.deserialize(optimizers.schedules.serialize(schedule))
    assert [float(clone(s)) for s in range(10)] == values


def test_schedule_drives_sgd_learning_rate() -> None:
    var = tf.Variable([0.0], name="w")
    schedule = optimizers.schedules.PiecewiseConstantDecay([1], [1.0, 0.1])
    opt = optimizers.SGD(learning_rate=schedule)
    for _ in range(3):
        opt.apply_gradients([(torch.tensor([1.0]), var)])
    # steps 0 and 1 use 1.0, step 2 uses 0.1
    np.testing.assert_allclose(var.numpy(), [-2.1], rtol=1e-6)
    assert "learning_rate" not in opt._trackable_children()
    config = opt.get_config()
    assert config["learning_rate"]["class_name"] == "PiecewiseConstantDecay"
    clone = optimizers.SGD.from_config(config)
    assert isinstance(clone.learning_rate, optimizers.schedules.PiecewiseConstantDecay)


def test_adam_state_layout_is_tf_keras_legacy() -> None:
    kernel = tf.Variable(np.ones((4, 3), np.float32), name="dense/kernel")
    bias = tf.Variable(np.zeros(3, np.float32), name="dense/bias")
    opt = optimizers.Adam(0.1)
    assert opt._trackable_children() == {}  # everything is created lazily
    opt.apply_gradients(zip([torch.ones(4, 3), torch.ones(3)], [kernel, bias]))
    assert list(opt._trackable_children()) == ["iter", "beta_1", "beta_2", "decay", "learning_rate"]
    assert [w.name for w in opt.variables()] == [
        "Adam/iter:0",
        "Adam/dense/kernel/m:0",
        "Adam/dense/bias/m:0",
        "Adam/dense/kernel/v:0",
        "Adam/dense/bias/v:0",
    ]
    assert opt.iterations.dtype == tf.int64
    assert opt.get_slot_names() == ["m", "v"]
    assert opt.get_slot(kernel, "m").shape == (4, 3)
    with pytest.raises(KeyError):
        opt.get_slot(kernel, "vhat")


def test_hyper_parameters_are_assignable_variables() -> None:
    var = tf.Variable([1.0], name="w")
    opt = optimizers.SGD(learning_rate=0.5)
    assert opt.lr.numpy() == pytest.approx(0.5)
    opt.learning_rate = 0.25
    opt.apply_gradients([(torch.tensor([1.0]), var)])
    opt.lr.assign(0.125)
    opt.apply_gradients([(torch.tensor([1.0]), var)])
    np.testing.assert_allclose(var.numpy(), [1.0 - 0.25 - 0.125])
    assert opt.get_config()["learning_rate"] == pytest.approx(0.125)


def test_constraint_applied_after_update() -> None:
    from savedflow.keras.constraints import NonNeg

    var = tf.Variable([1.0, -1.0], name="w", constraint=NonNeg())
    optimizers.SGD(1.0).apply_gradients([(torch.tensor([2.0, 2.0]), var)])
    np.testing.assert_allclose(var.numpy(), [0.0, 0.0])


def test_none_gradients_skipped_and_all_none_rejected() -> None:
    a, b = tf.Variable([1.0], name="a"), tf.Variable([1.0], name="b")
    opt = optimizers.SGD(1.0)
    opt.apply_gradients([(None, a), (torch.tensor([1.0]), b)])
    assert a.numpy()[0] == 1.0 and b.numpy()[0] == 0.0
    with pytest.raises(ValueError, match="No gradients provided"):
        opt.apply_gradients([(None, a)])


def test_minimize_with_callable_loss() -> None:
    pytest.importorskip("savedflow.ops.gradient_tape")
    var = tf.Variable(3.0, name="x")
    opt = optimizers.SGD(0.1)
    for _ in range(2):
        opt.minimize(lambda: var * var, [var])
    np.testing.assert_allclose(var.numpy(), 3.0 * 0.8 * 0.8, rtol=1e-6)


def test_get_and_config_round_trip() -> None:
    assert isinstance(optimizers.get("adam"), optimizers.Adam)
    assert isinstance(optimizers.get("RMSprop"), optimizers.RMSprop)
    opt = optimizers.Adam(learning_rate=0.01, beta_1=0.8, amsgrad=True, clipnorm=1.0)
    clone = optimizers.deserialize(optimizers.serialize(opt))
    assert type(clone) is optimizers.Adam
    assert clone.get_config() == opt.get_config()
    assert optimizers.get(opt) is opt
    with pytest.raises(ValueError, match="Could not interpret optimizer"):
        optimizers.get("nope")
    with pytest.raises(TypeError, match="Unexpected keyword argument"):
        optimizers.Adam(foo=1)
    with pytest.raises(ValueError, match="clipnorm"):
        optimizers.SGD(clipnorm=1.0, global_clipnorm=1.0)


def test_set_weights_restores_state() -> None:
    var = tf.Variable(np.ones(3, np.float32), name="w")
    opt = optimizers.Adam(0.1)
    opt.apply_gradients([(torch.ones(3), var)])
    saved = opt.get_weights()
    opt.apply_gradients([(torch.ones(3), var)])
    opt.set_weights(saved)
    assert int(opt.iterations.numpy()) == 1
    with pytest.raises(ValueError, match="weight list of length"):
        opt.set_weights(saved[:1])


def _train(opt: optimizers.Optimizer, variables: list, steps: int) -> None:
    for step in range(steps):
        grads = [
            torch.full(tuple(v.shape), float(step + 1)) * torch.as_tensor(v.numpy())
            for v in variables
        ]
        opt.apply_gradients(zip(grads, variables))


@pytest.mark.parametrize("restore_before_first_step", [True, False])
def test_checkpoint_round_trip_restores_slots(tmp_path, restore_before_first_step: bool) -> None:
    def make():
        return [
            tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3), name="k"),
            tf.Variable(np.ones(3, np.float32), name="b"),
        ]

    variables, opt = make(), optimizers.Adam(0.1)
    _train(opt, variables, 3)
    path = tf.train.Checkpoint(optimizer=opt, v=variables).save(str(tmp_path / "ckpt"))
    _train(opt, variables, 2)
    expected = [v.numpy() for v in variables]

    new_vars, new_opt = make(), optimizers.Adam(0.5)
    if restore_before_first_step:
        status = tf.train.Checkpoint(optimizer=new_opt, v=new_vars).restore(path)
        status.assert_consumed()  # slots are created from the checkpoint at restore time
    else:
        _train(new_opt, new_vars, 1)
        tf.train.Checkpoint(optimizer=new_opt, v=new_vars).restore(path).assert_consumed()
    assert int(new_opt.iterations.numpy()) == 3
    assert float(new_opt.learning_rate.numpy()) == pytest.approx(0.1)
    _train(new_opt, new_vars, 2)
    for got, want in zip(new_vars, expected):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)


def test_checkpoint_keys_match_tf_keras_layout(tmp_path) -> None:
    kernel = tf.Variable(np.ones((2, 2), np.float32), name="kernel")
    opt = optimizers.Adam(0.1)
    opt.apply_gradients([(torch.ones(2, 2), kernel)])
    path = tf.train.Checkpoint(optimizer=opt, kernel=kernel).save(str(tmp_path / "ckpt"))
    keys = {name for name, _ in tf.train.list_variables(path)}
    assert {
        "optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE",
        "optimizer/beta_1/.ATTRIBUTES/VARIABLE_VALUE",
        "optimizer/beta_2/.ATTRIBUTES/VARIABLE_VALUE",
        "optimizer/decay/.ATTRIBUTES/VARIABLE_VALUE",
        "optimizer/learning_rate/.ATTRIBUTES/VARIABLE_VALUE",
        "kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE",
        "kernel/.OPTIMIZER_SLOT/optimizer/v/.ATTRIBUTES/VARIABLE_VALUE",
    } <= keys


def _seed004_net() -> object:
    """The subclassed model of seed 004 (one Dense(5) layer under the attribute ``l1``)."""
    from savedflow import keras

    class Net(keras.Model):
        def __init__(self) -> None:
            super().__init__()
            self.l1 = keras.layers.Dense(5)

        def call(self, x):
            return self.l1(x)

    return Net()


_GOLDENS = os.path.join(os.path.dirname(__file__), "..", "..", "goldens")


def test_restores_tf_keras_legacy_adam_golden_with_deferred_slots() -> None:
    path = tf.train.latest_checkpoint(os.path.join(_GOLDENS, "seed004_training", "tf_ckpts"))
    net, opt = _seed004_net(), optimizers.Adam(0.5)
    status = tf.train.Checkpoint(step=tf.Variable(1), optimizer=opt, net=net).restore(path)
    net(np.ones((1, 1), np.float32))  # creates the kernel: its slots are restored on creation
    status.assert_existing_objects_matched()
    reader = tf.train.load_checkpoint(path)
    assert int(opt.iterations.numpy()) == reader.get_tensor(
        "optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE"
    )
    assert float(opt.learning_rate.numpy()) == pytest.approx(0.1)
    for var, name in ((net.l1.kernel, "kernel"), (net.l1.bias, "bias")):
        for slot in ("m", "v"):
            key = f"net/l1/{name}/.OPTIMIZER_SLOT/optimizer/{slot}/.ATTRIBUTES/VARIABLE_VALUE"
            np.testing.assert_array_equal(opt.get_slot(var, slot).numpy(), reader.get_tensor(key))


@pytest.mark.parametrize("golden", ["seed004_training", "seed004_training_new_adam"])
def test_resume_seed004_from_tf_keras_checkpoint(golden: str) -> None:
    """Both tf_keras optimizer layouts (legacy slots, new ``_variables/N``) resume exactly."""
    root = os.path.join(_GOLDENS, golden)
    with open(os.path.join(root, "case.json")) as f:
        want = json.load(f)["notes"]["resumed_run"]["losses"]
    inputs = tf.range(10.0)[:, None]
    labels = inputs * 5.0 + tf.range(5.0)[None, :]
    dataset = tf.data.Dataset.from_tensor_slices(dict(x=inputs, y=labels)).repeat().batch(2)
    iterator = iter(dataset)
    net, opt = _seed004_net(), optimizers.Adam(0.1)
    ckpt = tf.train.Checkpoint(step=tf.Variable(1), optimizer=opt, net=net)
    ckpt.restore(os.path.join(root, "tf_ckpts", "ckpt-5")).expect_partial()
    for _ in range(49 % 5):  # ckpt-5 was written after 49 steps; TF's iterator state is a variant
        next(iterator)
    losses = []
    for _ in range(len(want)):
        example = next(iterator)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.abs(net(example["x"]) - example["y"]))
        variables = net.trainable_variables
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
        losses.append(float(loss))
    np.testing.assert_allclose(losses, want, rtol=1e-4)

"""Restoring: matching by edge names, deferred and partial restores, status and report."""

from __future__ import annotations

import numpy as np
import pytest
from ckpt_doubles import SlotOptimizer, model_with_slots, rand

import savedflow as tf
from savedflow import errors
from savedflow.tracking.autotrackable import AutoTrackable


def _net(kernel=None, bias=None):
    net = AutoTrackable()
    net.l1 = AutoTrackable()
    net.l1.kernel = tf.Variable(rand((1, 5), 1) if kernel is None else kernel)
    net.l1.bias = tf.Variable(rand((5,), 2) if bias is None else bias)
    return net


@pytest.fixture
def saved(tmp_path):
    net = _net()
    ckpt = tf.train.Checkpoint(step=tf.Variable(7), net=net)
    return ckpt.save(str(tmp_path / "ckpt")), net


def test_round_trip_restores_values_and_counter(saved):
    path, net = saved
    new = _net(np.zeros((1, 5), np.float32), np.zeros(5, np.float32))
    ckpt = tf.train.Checkpoint(step=tf.Variable(0), net=new)
    status = ckpt.restore(path)
    status.assert_consumed().assert_existing_objects_matched().assert_nontrivial_match()
    np.testing.assert_array_equal(new.l1.kernel.numpy(), net.l1.kernel.numpy())
    np.testing.assert_array_equal(new.l1.bias.numpy(), net.l1.bias.numpy())
    assert int(ckpt.step) == 7 and int(ckpt.save_counter) == 1
    assert status.report().complete


def test_partial_structure_restores_one_variable(saved):
    path, net = saved
    to_restore = tf.Variable(np.zeros(5, np.float32))
    fake_layer = tf.train.Checkpoint(bias=to_restore)
    new_root = tf.train.Checkpoint(net=tf.train.Checkpoint(l1=fake_layer))
    status = new_root.restore(path)
    np.testing.assert_array_equal(to_restore.numpy(), net.l1.bias.numpy())
    status.assert_existing_objects_matched()
    with pytest.raises(AssertionError):
        status.assert_consumed()
    report = status.report()
    assert "net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE" in report.matched
    assert "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE" in report.pending_deferred
    assert "step/.ATTRIBUTES/VARIABLE_VALUE" in report.pending_deferred
    text = str(report)
    assert "Waiting for objects not created yet" in text and "net/l1/kernel" in text
    # Deferred: the kernel is restored the moment it is attached.
    deferred = tf.Variable(np.zeros((1, 5), np.float32))
    fake_layer.kernel = deferred
    np.testing.assert_array_equal(deferred.numpy(), net.l1.kernel.numpy())
    assert "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE" in status.report().matched


def test_read_does_not_create_save_counter(saved):
    path, _ = saved
    ckpt = tf.train.Checkpoint(net=_net())
    ckpt.read(path).expect_partial()
    assert ckpt._save_counter is None
    assert "save_counter" not in ckpt._trackable_children()


def test_restore_none_is_initialization_only():
    ckpt = tf.train.Checkpoint(v=tf.Variable(1.0))
    status = ckpt.restore(None)
    for assertion in (
        status.assert_consumed,
        status.assert_existing_objects_matched,
        status.assert_nontrivial_match,
    ):
        with pytest.raises(AssertionError, match="No checkpoint specified"):
            assertion()
    status.initialize_or_restore()
    assert status.expect_partial() is status
    assert float(ckpt.v) == 1.0


def test_missing_prefix_and_directory_raise_not_found(saved, tmp_path):
    ckpt = tf.train.Checkpoint(net=_net())
    with pytest.raises(errors.NotFoundError, match="checkpoint suffix"):
        ckpt.restore(str(tmp_path / "ckpt"))
    with pytest.raises(errors.NotFoundError):
        ckpt.restore(str(tmp_path))


def test_shape_and_dtype_mismatch_name_key_and_shapes(saved):
    path, _ = saved
    bad = _net(kernel=np.zeros((5, 1), np.float32))
    with pytest.raises(errors.ShapeMismatchError, match=r"net/l1/kernel.*\(1, 5\).*\(5, 1\)"):
        tf.train.Checkpoint(net=bad).restore(path)
    bad = _net(bias=np.zeros(5, np.float64))
    with pytest.raises(errors.DTypeMismatchError, match=r"net/l1/bias.*float32.*float64"):
        tf.train.Checkpoint(net=bad).restore(path)


def test_existing_objects_matched_fails_for_unknown_variable(saved):
    path, _ = saved
    net = _net()
    net.extra = tf.Variable(1.0)
    status = tf.train.Checkpoint(step=tf.Variable(0), net=net).restore(path)
    with pytest.raises(AssertionError, match="extra"):
        status.assert_existing_objects_matched()
    assert "net/extra" in status.report().unmatched_in_program


def test_nontrivial_match_fails_when_nothing_matches(saved):
    path, _ = saved
    status = tf.train.Checkpoint(other=tf.Variable(1.0)).read(path)
    with pytest.raises(AssertionError, match="Nothing except the root"):
        status.assert_nontrivial_match()


def test_list_and_dict_wrappers_restore_on_insertion(tmp_path):
    save = tf.train.Checkpoint()
    save.listed = [tf.Variable(1.0)]
    save.listed.append(tf.Variable(2.0))
    save.mapped = {"one": save.listed[0]}
    save.mapped["two"] = save.listed[1]
    save_path = save.save(str(tmp_path / "tf_list_example"))

    restore = tf.train.Checkpoint()
    v2 = tf.Variable(0.0)
    restore.mapped = {"two": v2}
    restore.restore(save_path)
    assert v2.numpy() == 2.0
    restore.listed = []
    assert repr(restore.listed) == "ListWrapper([])"
    v1 = tf.Variable(0.0)
    restore.listed.append(v1)
    assert v1.numpy() == 1.0


def test_later_restore_wins_over_earlier_deferred(tmp_path):
    a = tf.train.Checkpoint(v=tf.Variable(1.0)).write(str(tmp_path / "a"))
    b = tf.train.Checkpoint(v=tf.Variable(2.0)).write(str(tmp_path / "b"))
    target = tf.train.Checkpoint()
    target.read(a)
    target.read(b)
    target.v = tf.Variable(0.0)
    assert target.v.numpy() == 2.0
    # A direct newer restore is not overwritten by an older deferred one.
    c = tf.train.Checkpoint()
    c.read(a)
    c.w = tf.Variable(0.0)  # unrelated name: nothing queued for it
    holder = AutoTrackable()
    c.read(b)  # binds nothing new
    del holder


def test_slot_variables_restore_when_created(tmp_path):
    model, opt, var = model_with_slots(rand((3,), 3), 5.0)
    path = tf.train.Checkpoint(model=model, optimizer=opt).write(str(tmp_path / "s"))

    new_var = tf.Variable(np.zeros(3, np.float32))
    new_opt = SlotOptimizer()
    new_model = AutoTrackable()
    new_model.var = new_var
    status = tf.train.Checkpoint(model=new_model, optimizer=new_opt).read(path)
    assert (
        "model/var/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE"
        in status.report().pending_deferred
    )
    new_opt.create_slots(new_var)  # the optimizer creates its slots later
    np.testing.assert_array_equal(
        new_opt.get_slot(new_var, "m").numpy(), np.full(3, 5.0, np.float32)
    )
    np.testing.assert_array_equal(
        new_opt.get_slot(new_var, "v").numpy(), np.full(3, 6.0, np.float32)
    )
    assert int(new_opt.iter) == 1
    status.assert_consumed()


def test_slots_restored_when_variable_is_created_after_optimizer(tmp_path):
    model, opt, var = model_with_slots(rand((2,), 4), 1.0)
    path = tf.train.Checkpoint(model=model, optimizer=opt).write(str(tmp_path / "s"))

    new_opt = SlotOptimizer()
    new_model = AutoTrackable()
    tf.train.Checkpoint(model=new_model, optimizer=new_opt).read(path)
    new_model.var = tf.Variable(np.zeros(2, np.float32))  # deferred variable, then slots
    new_opt.create_slots(new_model.var)
    np.testing.assert_array_equal(new_model.var.numpy(), var.numpy())
    np.testing.assert_array_equal(
        new_opt.get_slot(new_model.var, "v").numpy(), np.full(2, 2.0, np.float32)
    )


def test_deferred_restore_survives_checkpoint_deletion(tmp_path):
    ckpt = tf.train.Checkpoint(v=tf.Variable(rand((4,), 5)))
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=1)
    first = manager.save()
    target = tf.train.Checkpoint()
    target.restore(first).expect_partial()
    manager.save()  # deletes `first`
    assert not (tmp_path / "ckpt-1.index").exists()
    target.v = tf.Variable(np.zeros(4, np.float32))
    np.testing.assert_array_equal(target.v.numpy(), ckpt.v.numpy())


def test_root_checkpoint_has_self_reference_and_no_counter(tmp_path):
    from savedflow.checkpoint.save_util import restore_object, save_object

    model = _net()
    prefix = save_object(model, str(tmp_path / "weights"))
    assert prefix == str(tmp_path / "weights")
    assert not (tmp_path / "checkpoint").exists()
    new = _net(np.zeros((1, 5), np.float32), np.zeros(5, np.float32))
    restore_object(new, prefix).assert_consumed()
    np.testing.assert_array_equal(new.l1.kernel.numpy(), model.l1.kernel.numpy())


def test_options_write_callbacks_and_skip_slot_variables(tmp_path):
    model, opt, var = model_with_slots(rand((2,), 6), 1.0)
    seen = []
    options = tf.train.CheckpointOptions(
        experimental_write_callbacks=[seen.append, lambda: seen.append("no-arg")],
        experimental_skip_slot_variables=True,
    )
    prefix = tf.train.Checkpoint(model=model, optimizer=opt).write(
        str(tmp_path / "w"), options=options
    )
    assert seen == [prefix, "no-arg"]
    keys = tf.train.load_checkpoint(prefix).get_variable_to_shape_map()
    assert not [k for k in keys if ".OPTIMIZER_SLOT" in k]


def test_report_lists_value_in_checkpoint_without_object(saved):
    path, _ = saved
    net = _net()
    del net.l1.bias  # the checkpoint has a bias, the program no longer
    status = tf.train.Checkpoint(step=tf.Variable(0), net=net).restore(path)
    status.assert_existing_objects_matched()
    report = status.report()
    assert report.pending_deferred == ["net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE"]
    assert not report.complete and "net/l1/bias" in str(report)


@pytest.mark.parametrize("parallel", [False, True])
def test_direct_reads_restore_values_and_detect_corruption(tmp_path, monkeypatch, parallel):
    from savedflow.checkpoint import restore

    if parallel:  # every batch through the threaded piecewise reader
        monkeypatch.setattr(restore, "_PARALLEL_BYTES", 0)
    values = [rand((300, 70), i) for i in range(4)]
    holder = AutoTrackable()
    holder.vs = [tf.Variable(v) for v in values]
    prefix = tf.train.Checkpoint(m=holder).write(str(tmp_path / "ckpt"))
    target = AutoTrackable()
    target.vs = [tf.Variable(np.zeros((300, 70), np.float32)) for _ in values]
    tf.train.Checkpoint(m=target).read(prefix).assert_consumed()
    for variable, value in zip(target.vs, values):
        np.testing.assert_array_equal(variable.numpy(), value)
    data = tmp_path / "ckpt.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    raw[300 * 70 * 4 + 5] ^= 0xFF  # one byte of the second variable
    data.write_bytes(bytes(raw))
    with pytest.raises(errors.CorruptCheckpointError, match="m/vs/1/"):
        tf.train.Checkpoint(m=target).read(prefix)

"""Small test doubles shared by the checkpoint tests (imported by name: tests are not a package)."""

from __future__ import annotations

import numpy as np

import savedflow as tf
from savedflow.checkpoint import slots
from savedflow.tracking.autotrackable import AutoTrackable


class SlotOptimizer(AutoTrackable):
    """A minimal slot-based optimizer following savedflow's default slot protocol."""

    def __init__(self, slot_names=("m", "v")):
        self.__dict__["_slot_store"] = {}
        self.__dict__["_names"] = list(slot_names)
        self.iter = tf.Variable(np.int64(0), name="iter")

    def get_slot_names(self):
        return list(self._names)

    def get_slot(self, var, slot_name):
        return self._slot_store[(id(var), slot_name)]

    def create_slots(self, var):
        for name in self._names:
            if (id(var), name) not in self._slot_store:
                slot = tf.Variable(np.zeros(var.shape, np.float32), name=f"{name}")
                self._slot_store[(id(var), name)] = slot
                slots.apply_deferred_slot_restorations(self, var, name, slot)

    def step(self, var, value):
        self.create_slots(var)
        for i, name in enumerate(self._names):
            self._slot_store[(id(var), name)].assign(np.full(var.shape, value + i, np.float32))
        self.iter.assign_add(1)


def rand(shape, seed=0, dtype=np.float32):
    return np.random.RandomState(seed).standard_normal(shape).astype(dtype)


def model_with_slots(value, slot_value):
    """``(model, optimizer, var)``: ``model.var`` holds ``value``; the optimizer stepped it once."""
    var = tf.Variable(value)
    opt = SlotOptimizer()
    opt.step(var, slot_value)
    model = AutoTrackable()
    model.var = var
    return model, opt, var

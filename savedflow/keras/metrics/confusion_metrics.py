"""Thresholded confusion-matrix metrics: Precision, Recall, AUC, TruePositives, ..."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from savedflow.keras.losses._tensors import EPSILON, as_float, as_tensor, broadcast_weights
from savedflow.keras.metrics.metric import Metric, _storage


def _thresholds(value: Any, default: float) -> tuple[list[float], bool]:
    if value is None:
        return [default], True
    if isinstance(value, (int, float)):
        return [float(value)], True
    return [float(v) for v in value], False


# (label positive, predicted positive) of each confusion-matrix cell
_CELLS = {
    "true_positives": (True, True),
    "false_positives": (False, True),
    "true_negatives": (False, False),
    "false_negatives": (True, False),
}


def _confusion_update(
    counters: dict[str, Any],
    thresholds: torch.Tensor,
    y_true: Any,
    y_pred: Any,
    sample_weight: Any,
    class_id: int | None = None,
    top_k: int | None = None,
) -> None:
    """Add weighted counts of the ``counters``' cells at each threshold (``pred > threshold``
    is positive); cells without a counter are not computed."""
    with torch.no_grad():
        y_pred = as_float(y_pred).detach()
        y_true = as_tensor(y_true, y_pred).detach()
        if y_true.shape != y_pred.shape and y_true.numel() == y_pred.numel():
            y_true = y_true.reshape(y_pred.shape)
        weights = None if sample_weight is None else broadcast_weights(sample_weight, y_pred)
        if top_k is not None:
            k = min(top_k, y_pred.shape[-1])
            kth = torch.topk(y_pred, k, dim=-1).values[..., -1:]
            y_pred = torch.where(y_pred >= kth, y_pred, torch.full_like(y_pred, -float("inf")))
        if class_id is not None:
            y_true, y_pred = y_true[..., class_id], y_pred[..., class_id]
            weights = None if weights is None else weights[..., class_id]
        labels = (y_true.reshape(1, -1) > 0.5).to(y_pred.dtype)
        predicted = (y_pred.reshape(1, -1) > thresholds.to(y_pred.device).reshape(-1, 1)).to(
            y_pred.dtype
        )
        w = torch.ones_like(labels) if weights is None else weights.reshape(1, -1).to(y_pred.dtype)
        for name, variable in counters.items():
            positive_label, positive_prediction = _CELLS[name]
            label = labels if positive_label else 1 - labels
            prediction = predicted if positive_prediction else 1 - predicted
            value = (label * prediction * w).sum(dim=1)
            target = _storage(variable)
            target.add_(value.to(target.dtype).to(target.device))


def _safe_div(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.where(b != 0, a / torch.where(b != 0, b, torch.ones_like(b)), torch.zeros_like(a))


class _ConfusionMetric(Metric):
    _uniquify_default_name = True  # tf.keras: precision, precision_1, ... when no name is given

    _KINDS: tuple[str, ...] = ()

    def __init__(
        self,
        thresholds: Any = None,
        top_k: int | None = None,
        class_id: int | None = None,
        name: str | None = None,
        dtype: Any = None,
    ):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default = -1e-7 if top_k is not None else 0.5
        values, self._single = _thresholds(thresholds, default)
        self.thresholds = values[0] if self._single and thresholds is not None else values
        self._threshold_tensor = torch.tensor(values, dtype=torch.float32)
        self._counters = {kind: self.add_weight(kind, shape=(len(values),)) for kind in self._KINDS}

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Accumulate confusion counts for this batch."""
        _confusion_update(
            self._counters,
            self._threshold_tensor,
            y_true,
            y_pred,
            sample_weight,
            self.class_id,
            self.top_k,
        )

    def _value(self, kind: str) -> torch.Tensor:
        return _storage(self._counters[kind])

    def _finish(self, value: torch.Tensor) -> torch.Tensor:
        return value[0] if self._single else value

    def _true_positive_share(self, other: str) -> torch.Tensor:
        """``tp / (tp + other)`` per threshold, 0 where the sum is 0."""
        tp = self._value("true_positives")
        return self._finish(_safe_div(tp, tp + self._value(other)))

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config = {
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }
        return {**super().get_config(), **config}


class Precision(_ConfusionMetric):
    """``tp / (tp + fp)`` at ``thresholds`` (default 0.5)."""

    _KINDS = ("true_positives", "false_positives")

    def result(self) -> torch.Tensor:
        """Precision (0 when nothing was predicted positive)."""
        return self._true_positive_share("false_positives")


class Recall(_ConfusionMetric):
    """``tp / (tp + fn)`` at ``thresholds`` (default 0.5)."""

    _KINDS = ("true_positives", "false_negatives")

    def result(self) -> torch.Tensor:
        """Recall (0 when there were no positive labels)."""
        return self._true_positive_share("false_negatives")


def _count_metric(class_name: str, kind: str) -> type:
    def __init__(
        self: Any, thresholds: Any = None, name: str | None = None, dtype: Any = None
    ) -> None:
        _ConfusionMetric.__init__(self, thresholds, None, None, name, dtype)

    def result(self: Any) -> torch.Tensor:
        return self._finish(self._value(kind).clone())

    def get_config(self: Any) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "thresholds": self.init_thresholds}

    namespace = {
        "_KINDS": (kind,),
        "__init__": __init__,
        "result": result,
        "get_config": get_config,
    }
    namespace.update(
        {"__doc__": f"Weighted count of {kind.replace('_', ' ')}.", "__module__": __name__}
    )
    return type(class_name, (_ConfusionMetric,), namespace)


TruePositives = _count_metric("TruePositives", "true_positives")
FalsePositives = _count_metric("FalsePositives", "false_positives")
TrueNegatives = _count_metric("TrueNegatives", "true_negatives")
FalseNegatives = _count_metric("FalseNegatives", "false_negatives")


class AUC(Metric):
    """Area under the ROC or PR curve, from confusion counts at ``num_thresholds`` thresholds.

    Example::

        m = keras.metrics.AUC(num_thresholds=3)
        m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
        float(m.result())  # 0.75
    """

    _uniquify_default_name = True  # tf.keras: auc, auc_1, ... (history keys val_auc_1, ...)

    def __init__(
        self,
        num_thresholds: int = 200,
        curve: str = "ROC",
        summation_method: str = "interpolation",
        name: str | None = None,
        dtype: Any = None,
        thresholds: Any = None,
        multi_label: bool = False,
        num_labels: int | None = None,
        label_weights: Any = None,
        from_logits: bool = False,
    ):
        super().__init__(name=name, dtype=dtype)
        if curve.upper() not in ("ROC", "PR"):
            raise ValueError(
                f'Invalid AUC curve value: "{curve}". Expected values are ["ROC", "PR"]'
            )
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}".')
        self.curve = curve.upper()
        self.summation_method = summation_method
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = label_weights
        self._from_logits = from_logits
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            self.num_thresholds = len(inner) + 2
        else:
            if num_thresholds <= 1:
                raise ValueError(
                    f"Argument `num_thresholds` must be an integer > 1. Received: num_thresholds={num_thresholds}"
                )
            self.num_thresholds = num_thresholds
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self._thresholds = np.array([0.0 - EPSILON, *inner, 1.0 + EPSILON])
        self._threshold_tensor = torch.tensor(self._thresholds, dtype=torch.float32)
        kinds = ("true_positives", "true_negatives", "false_positives", "false_negatives")
        self._counters = {
            kind: self.add_weight(kind, shape=(self.num_thresholds,)) for kind in kinds
        }

    @property
    def thresholds(self) -> list[float]:
        """The thresholds, including the two end points."""
        return list(self._thresholds)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Accumulate confusion counts for this batch."""
        if self._from_logits:
            y_pred = torch.sigmoid(as_float(y_pred))
        _confusion_update(self._counters, self._threshold_tensor, y_true, y_pred, sample_weight)

    def result(self) -> torch.Tensor:
        """The area under the curve."""
        tp, fp, tn, fn = (
            _storage(self._counters[k]).to(torch.float64)
            for k in ("true_positives", "false_positives", "true_negatives", "false_negatives")
        )
        if self.curve == "PR" and self.summation_method == "interpolation":
            return _interpolate_pr_auc(tp, fp, fn).to(torch.float32)
        recall = _safe_div(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _safe_div(fp, fp + tn), recall
        else:
            x, y = recall, _safe_div(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = torch.minimum(y[:-1], y[1:])
        else:
            heights = torch.maximum(y[:-1], y[1:])
        return torch.sum((x[:-1] - x[1:]) * heights).to(torch.float32)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config = {
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": self.label_weights,
            "from_logits": self._from_logits,
        }
        if self._init_from_thresholds:  # as tf.keras: only thresholds the user gave
            config["thresholds"] = [float(t) for t in self.thresholds[1:-1]]
        return {**super().get_config(), **config}


def _interpolate_pr_auc(tp: torch.Tensor, fp: torch.Tensor, fn: torch.Tensor) -> torch.Tensor:
    """PR-AUC with the Davis & Goadrich (2006) interpolation between thresholds."""
    dtp = tp[:-1] - tp[1:]
    p = tp + fp
    dp = p[:-1] - p[1:]
    slope = _safe_div(dtp, torch.clamp(dp, min=0))
    intercept = tp[1:] - slope * p[1:]
    both = (p[:-1] > 0) & (p[1:] > 0)
    ratio = torch.where(both, _safe_div(p[:-1], torch.clamp(p[1:], min=0)), torch.ones_like(p[1:]))
    increments = _safe_div(
        slope * (dtp + intercept * torch.log(ratio)), torch.clamp(tp[1:] + fn[1:], min=0)
    )
    return torch.sum(increments)

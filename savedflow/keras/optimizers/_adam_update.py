"""The Adam update ``w -= alpha * m / (sqrt(v) + epsilon)`` (TF's ApplyAdam) as torch kernels.

Three ways to run it, all on lists of same-device, same-dtype tensors updated in place:

* :func:`fused_update`: torch's fused Adam kernel (one pass over memory). It takes the betas as
  Python floats and the step size as a tensor.
* :func:`foreach_update`: ``torch._foreach_*`` kernels with every coefficient a 0-d tensor
  (nothing read on the host; several passes).
* :func:`recorded_update`: the op ``savedflow_keras::adam_``, for ``savedflow.function``
  traces. A trace records it as one graph node taking the beta Variables' tensors; when the
  graph runs, the op reads the betas' current values and runs the fused kernel on CPU (where
  reading them is free), the foreach kernels elsewhere. A trace of the fused kernel itself
  would freeze the betas' values at tracing time.
"""

from __future__ import annotations

import math

import torch

from savedflow.keras.optimizers import _state
from savedflow.keras.optimizers.optimizer import descend_by_root, repeat

__all__ = ["FUSED_DTYPES", "foreach_update", "fused_update", "recorded_update"]

FUSED_DTYPES = (torch.float32, torch.float64)

_INF_STEPS: dict[torch.device, torch.Tensor] = {}


def fused_update(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    m: list[torch.Tensor],
    v: list[torch.Tensor],
    vhat: list[torch.Tensor],
    alpha: torch.Tensor,
    beta_1: float,
    beta_2: float,
    epsilon: float,
) -> None:
    """torch's fused Adam kernel computing TF's update (``vhat`` empty unless amsgrad).

    The kernel divides by its own bias corrections ``1 - beta^step``; a step count of +inf
    makes both exactly 1 (``beta^inf == 0``), so with ``lr=alpha`` (TF's bias-corrected step
    size, a tensor) it computes ``w -= alpha * m / (sqrt(v) + epsilon)``.

    Raises:
      RuntimeError: the kernel does not support these tensors (dtype, device).
    """
    device = params[0].device
    steps = _INF_STEPS.get(device)
    if steps is None:
        steps = _INF_STEPS[device] = torch.full((), math.inf, device=device)
    torch._fused_adam_(
        params,
        [g.contiguous() for g in grads],
        m,
        v,
        vhat,
        [steps] * len(params),
        lr=alpha,
        beta1=beta_1,
        beta2=beta_2,
        weight_decay=0.0,
        eps=epsilon,
        amsgrad=bool(vhat),
        maximize=False,
    )


def foreach_update(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    m: list[torch.Tensor],
    v: list[torch.Tensor],
    vhat: list[torch.Tensor],
    alpha: torch.Tensor,
    beta_1: torch.Tensor,
    beta_2: torch.Tensor,
    epsilon: float,
) -> None:
    """TF's update with foreach kernels: ``m += (g - m)(1 - beta_1)``, ``v += (g^2 - v)(1 - beta_2)``."""
    count, one = len(params), _state.constant(1.0, params[0].device)
    torch._foreach_lerp_(m, grads, repeat(one - beta_1, count))
    torch._foreach_lerp_(v, torch._foreach_mul(grads, grads), repeat(one - beta_2, count))
    second = v
    if vhat:
        torch._foreach_maximum_(vhat, v)
        second = vhat
    descend_by_root(params, m, second, epsilon, -alpha)


def recorded_update(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    m: list[torch.Tensor],
    v: list[torch.Tensor],
    vhat: list[torch.Tensor],
    alpha: torch.Tensor,
    beta_1: torch.Tensor,
    beta_2: torch.Tensor,
    epsilon: float,
) -> None:
    """The update as the single op ``savedflow_keras::adam_`` (for function traces)."""
    torch.ops.savedflow_keras.adam_(
        params, grads, m, v, vhat, alpha, beta_1, beta_2, float(epsilon)
    )


def _adam_kernel(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    m: list[torch.Tensor],
    v: list[torch.Tensor],
    vhat: list[torch.Tensor],
    alpha: torch.Tensor,
    beta_1: torch.Tensor,
    beta_2: torch.Tensor,
    epsilon: float,
) -> None:
    if not params:
        return
    if params[0].device.type == "cpu" and params[0].dtype in FUSED_DTYPES:
        # Called as an op: a recording dispatch mode does not see these reads (they are
        # inside the op) and a replayed graph reads the betas' values of that call.
        b1 = torch.ops.aten._local_scalar_dense(beta_1)
        b2 = torch.ops.aten._local_scalar_dense(beta_2)
        try:
            fused_update(params, grads, m, v, vhat, alpha, float(b1), float(b2), epsilon)
            return
        except (RuntimeError, NotImplementedError):
            pass
    foreach_update(params, grads, m, v, vhat, alpha, beta_1, beta_2, epsilon)


def _adam_fake(*args: object) -> None:
    """Shape propagation (``torch.compile``'s fake tensors): the op only writes its inputs."""
    del args


def _define_op() -> torch.library.Library:
    library = torch.library.Library("savedflow_keras", "FRAGMENT")
    library.define(
        "adam_(Tensor(a!)[] params, Tensor[] grads, Tensor(b!)[] m, Tensor(c!)[] v, "
        "Tensor(d!)[] vhat, Tensor alpha, Tensor beta_1, Tensor beta_2, float epsilon) -> ()"
    )
    library.impl("adam_", _adam_kernel, "CompositeExplicitAutograd")
    library.impl("adam_", _adam_fake, "Meta")
    return library


_LIBRARY = _define_op()  # kept alive: the op exists as long as this object does

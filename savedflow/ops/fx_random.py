"""Random ops in recorded graphs: the generator each op draws from, and its state before the draw.

A random ATen op (tagged ``torch.Tag.nondeterministic_seeded``) draws from the generator passed
to it (``generator=``, or positionally for ops such as ``poisson``) or else from the default
generator of the device it runs on. :class:`GeneratorUses` notes each generator a run draws from
with its state before the first draw, so that

* a replay of the recorded graph can be checked against the run (:func:`preserved_rng` puts the
  generators back to those states, replays, then puts back the states found on entry);
* a trace that must not draw (a retrace for a new shape, ``get_concrete_function``) can leave
  the generators as it found them (:meth:`GeneratorUses.restore`, :func:`rng_untouched`).

Explicit generators become attributes of the GraphModule, so each replay continues their
sequence as a Python call would. A generator the function makes anew at every call (a seeded
initializer's) must restart instead: :func:`fresh_generator` makes generators that a graph
restarts from their recorded state at every call (:func:`restart_generator`). A plain
``torch.Generator()`` made inside the function is kept by the graph and continues its sequence
(torch gives no way to see that the run made it).

Generators are told apart by the C++ generator they wrap (``_cdata``): ATen hands random ops a
new Python wrapper of the caller's generator, so Python identity says nothing.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.fx
from torch.utils._python_dispatch import TorchDispatchMode

__all__ = [
    "GeneratorUses",
    "UnrecordableGenerator",
    "default_generator",
    "explicit_generator",
    "fresh_generator",
    "is_random",
    "preserved_rng",
    "restart_generator",
    "rng_states",
    "rng_untouched",
]

# Generators made by fresh_generator, and graph attributes holding them.
_FRESH: weakref.WeakSet[torch.Generator] = weakref.WeakSet()
# op -> position of its positional ``Generator?`` argument (None: keyword-only or none)
_GENERATOR_POSITION: dict[Any, int | None] = {}


class UnrecordableGenerator(Exception):
    """A random op draws from a generator a graph cannot name (a device without one)."""


def is_random(func: Any) -> bool:
    """Whether an ATen op draws random numbers."""
    return torch.Tag.nondeterministic_seeded in getattr(func, "tags", ())


def _generator_position(func: Any) -> int | None:
    if func not in _GENERATOR_POSITION:
        position = None
        schema = getattr(func, "_schema", None)
        for index, argument in enumerate(schema.arguments if schema is not None else ()):
            if "Generator" in str(argument.type) and not argument.kwarg_only:
                position = index
                break
        _GENERATOR_POSITION[func] = position
    return _GENERATOR_POSITION[func]


def explicit_generator(
    func: Any, args: Sequence[Any], kwargs: dict[str, Any]
) -> tuple[torch.Generator | None, int | str | None]:
    """The generator passed to a random op and where: ``"generator"`` (keyword) or its index."""
    generator = kwargs.get("generator")
    if isinstance(generator, torch.Generator):
        return generator, "generator"
    position = _generator_position(func)
    if position is not None and position < len(args):
        if isinstance(args[position], torch.Generator):
            return args[position], position
    return None, None


def _draw_device(args: Sequence[Any], kwargs: dict[str, Any]) -> torch.device:
    """The device a random op draws on: ``device=``, else its first tensor's, else the CPU.

    At the ATen level a missing ``device`` means the CPU: ``torch.set_default_device`` fills
    the argument in before the op is dispatched.
    """
    device = kwargs.get("device")
    if device is not None:
        return torch.device(device)
    for value in (*args, *kwargs.values()):
        if isinstance(value, torch.Tensor):
            return value.device
    return torch.device("cpu")


def default_generator(device: torch.device) -> torch.Generator | None:
    """The generator random ops on ``device`` draw from when given none.

    None for meta tensors (nothing is drawn) and for CUDA when torch has no CUDA device (the op
    itself then reports that); CUDA is only queried when a CUDA device exists.

    Raises:
      UnrecordableGenerator: another device type, whose generator is not tracked.
    """
    if device.type == "cpu":
        return torch.default_generator
    if device.type == "meta":
        return None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            return None
        index = device.index if device.index is not None else torch.cuda.current_device()
        return torch.cuda.default_generators[index]
    raise UnrecordableGenerator(
        f"draws random numbers on {device}, whose generator cannot be recorded"
    )


def fresh_generator(seed: int, device: Any = "cpu") -> torch.Generator:
    """A generator seeded with ``seed`` that recorded graphs restart at every call.

    For code that makes a seeded generator on every call to repeat the same numbers (Keras
    initializers with a ``seed``, like TF's stateless ops): a graph recorded from such a call
    repeats them too, instead of continuing the generator's sequence.
    """
    generator = torch.Generator(device=device)
    generator.manual_seed(int(seed))
    _FRESH.add(generator)
    return generator


def _is_fresh(generator: torch.Generator) -> bool:
    return any(g._cdata == generator._cdata for g in list(_FRESH))


@dataclass(eq=False)
class _Use:
    """One generator a run drew from."""

    generator: torch.Generator
    state: torch.Tensor  # before the run's first draw from it
    fresh: bool = False  # made anew by every call: graphs restart it
    attr: str | None = None  # GraphModule attribute (explicit generators only)
    first: list[torch.fx.Node] = field(default_factory=list)  # its first get_attr node


class GeneratorUses:
    """The generators one run drew from, each with its state from before its first draw."""

    def __init__(self) -> None:
        self._by_cdata: dict[int, _Use] = {}

    @property
    def uses(self) -> list[_Use]:
        return list(self._by_cdata.values())

    def note(self, generator: torch.Generator) -> _Use:
        use = self._by_cdata.get(generator._cdata)
        if use is None:
            use = _Use(generator, generator.get_state())
            use.fresh = bool(_FRESH) and _is_fresh(generator)
            self._by_cdata[generator._cdata] = use
        return use

    def note_op(
        self, func: Any, args: Sequence[Any], kwargs: dict[str, Any]
    ) -> tuple[torch.Generator | None, int | str | None]:
        """Note the generator a random op draws from; returns its explicit generator and where."""
        generator, where = explicit_generator(func, args, kwargs)
        if generator is not None:
            self.note(generator)
            return generator, where
        default = default_generator(_draw_device(args, kwargs))
        if default is not None:
            self.note(default)
        return None, None

    def attribute_node(self, graph: torch.fx.Graph, generator: torch.Generator) -> torch.fx.Node:
        """A ``get_attr`` node naming an explicit generator (set on the root by :meth:`install`)."""
        use = self.note(generator)
        first = use.attr is None
        if first:
            use.attr = f"_generator_{sum(u.attr is not None for u in self._by_cdata.values())}"
        node = graph.get_attr(use.attr)
        if first:
            use.first.append(node)
        return node

    def restore(self) -> None:
        """Give every generator its state from before the run."""
        for use in self._by_cdata.values():
            use.generator.set_state(use.state)

    def install(
        self, root: torch.nn.Module, graph: torch.fx.Graph
    ) -> list[tuple[torch.Generator, torch.Tensor]]:
        """Set the generator attributes on ``root``; returns ``(generator, state)`` per generator.

        A fresh generator (:func:`fresh_generator`) gets a node restarting it from its recorded
        state before its first draw, and stays fresh for graphs recorded around this one.
        """
        for use in self._by_cdata.values():
            if use.attr is None:
                continue
            setattr(root, use.attr, use.generator)
            if use.fresh and use.first:
                _insert_restart(root, graph, use.first[0], use.state)
                _FRESH.add(use.generator)
        return [(use.generator, use.state) for use in self._by_cdata.values()]


def restart_generator(generator: torch.Generator, state: torch.Tensor) -> torch.Generator:
    """Set ``generator`` to ``state`` and return it (a graph node before a stand-in's draws)."""
    generator.set_state(state)
    return generator


def _insert_restart(
    root: torch.nn.Module, graph: torch.fx.Graph, first: torch.fx.Node, state: torch.Tensor
) -> None:
    name = f"{first.target}_start"
    object.__setattr__(root, name, state)  # a plain attribute, not a buffer
    with graph.inserting_after(first):
        state_node = graph.get_attr(name)
    with graph.inserting_after(state_node):
        restart = graph.call_function(restart_generator, (first, state_node))
    first.replace_all_uses_with(restart, delete_user_cb=lambda user: user is not restart)


def rng_states(graph_module: torch.fx.GraphModule) -> list[tuple[torch.Generator, torch.Tensor]]:
    """``(generator, state before the recorded run drew from it)`` for each generator it used."""
    return list(getattr(graph_module, "_sf_rng_states", ()))


@contextlib.contextmanager
def preserved_rng(states: Sequence[tuple[torch.Generator, torch.Tensor]]) -> Iterator[None]:
    """Run a replay from the given generator states, then put back the states found on entry."""
    current = [(gen, gen.get_state()) for gen, _ in states]
    for gen, state in states:
        gen.set_state(state)
    try:
        yield
    finally:
        for gen, state in current:
            gen.set_state(state)


class _RngWatcher(TorchDispatchMode):
    """Notes the generators random ops draw from (see :func:`rng_untouched`)."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return False  # otherwise torch imports torch._dynamo lazily (seconds)

    def __init__(self) -> None:
        super().__init__()
        self.uses = GeneratorUses()

    def __torch_dispatch__(
        self, func: Any, types: Any, args: Sequence[Any] = (), kwargs: Any = None
    ) -> Any:
        kwargs = kwargs or {}
        if is_random(func):
            with contextlib.suppress(UnrecordableGenerator):
                self.uses.note_op(func, args, kwargs)
        return func(*args, **kwargs)


@contextlib.contextmanager
def rng_untouched() -> Iterator[None]:
    """Every generator drawn from inside the block gets back its state from before the block."""
    watcher = _RngWatcher()
    try:
        with watcher:
            yield
    finally:
        watcher.uses.restore()

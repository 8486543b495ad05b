"""``savedflow.Module``: TF's base class for models and layers.

A Module tracks every Variable and Module assigned to its attributes (also inside lists, tuples
and dicts) and lists them through :attr:`Module.variables`, :attr:`Module.trainable_variables` and
:attr:`Module.submodules`, walking attributes in sorted name order exactly as ``tf.Module`` does,
so the order of variables matches TensorFlow's.

Example::

    >>> import savedflow as tf
    >>> class Scale(tf.Module):
    ...     def __init__(self, name=None):
    ...         super().__init__(name=name)
    ...         self.w = tf.Variable(2.0, name="w")
    ...     def __call__(self, x):
    ...         return self.w * x
    >>> m = Scale()
    >>> m.name, [v.name for v in m.trainable_variables]
    ('scale', ['w:0'])
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import torch

from savedflow.ops.name_scope import name_scope as _name_scope
from savedflow.ops.tensor_shape import TensorShape
from savedflow.tracking.autotrackable import AutoTrackable
from savedflow.variables import Variable

__all__ = ["Module"]

_F = TypeVar("_F", bound=Callable[..., Any])
_VALID_IDENTIFIER = re.compile(r"^[a-zA-Z_]([a-zA-Z0-9_])*$")
_CAMEL_TO_SNAKE = re.compile(r"((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))")

# Bookkeeping attributes that are never walked for variables or submodules.
_IGNORED_PROPERTIES = frozenset(
    (
        "_self_unconditional_checkpoint_dependencies",
        "_self_unconditional_dependency_names",
        "_self_unconditional_deferred_dependencies",
    )
)


def camel_to_snake(name: str) -> str:
    """``"FlexibleDenseModule"`` -> ``"flexible_dense_module"``."""
    return _CAMEL_TO_SNAKE.sub(r"_\1", name).lower()


class Module(AutoTrackable):
    """Base class for models and layers: a named container that tracks variables and submodules.

    Args:
      name: the module's name; defaults to the class name in snake_case. It must be a valid
        Python identifier.

    Raises:
      ValueError: ``name`` is not a valid identifier.
    """

    # Attributes skipped when collecting variables/submodules (subclasses may extend it).
    _TF_MODULE_IGNORED_PROPERTIES = _IGNORED_PROPERTIES

    def __init__(self, name: str | None = None):
        if name is None:
            name = camel_to_snake(type(self).__name__)
        elif not valid_identifier(name):
            raise ValueError(
                f"{name!r} is not a valid module name. Module names must be valid Python "
                "identifiers (e.g. a valid class name)."
            )
        self._name = name
        with _name_scope(name) as scope_name:
            self._scope_name = scope_name
        self._name_scope = _name_scope(scope_name)

    @property
    def name(self) -> str:
        """The name given at construction (or derived from the class name)."""
        return self._name

    @property
    def name_scope(self) -> _name_scope:
        """A name scope for this module, re-entrant: ``with self.name_scope: ...``."""
        return self._name_scope

    @property
    def variables(self) -> tuple[Variable, ...]:
        """All variables of this module and its submodules, in TF's order (sorted attributes)."""
        return tuple(self._flatten(predicate=_is_variable))

    @property
    def trainable_variables(self) -> tuple[Variable, ...]:
        """The variables with ``trainable=True``."""
        return tuple(self._flatten(predicate=_is_trainable_variable))

    @property
    def non_trainable_variables(self) -> tuple[Variable, ...]:
        """The variables with ``trainable=False``."""
        return tuple(self._flatten(predicate=_is_non_trainable_variable))

    @property
    def submodules(self) -> tuple[Module, ...]:
        """Every Module reachable from this one (not including itself)."""
        return tuple(self._flatten(predicate=_is_module))

    def _flatten(
        self,
        recursive: bool = True,
        predicate: Callable[[Any], bool] | None = None,
        attribute_traversal_key: Callable[[str], Any] | None = None,
        with_path: bool = False,
        expand_composites: bool = False,
    ) -> Iterator[Any]:
        """Walk attributes (sorted by name) and nested structures, yielding what ``predicate`` accepts.

        With ``with_path=True`` yields ``(path_tuple, value)`` pairs.
        """
        del expand_composites
        return _flatten_module(
            self,
            recursive=recursive,
            predicate=predicate or (lambda _: True),
            attribute_traversal_key=attribute_traversal_key,
            attributes_to_ignore=self._TF_MODULE_IGNORED_PROPERTIES,
            with_path=with_path,
        )

    @classmethod
    def with_name_scope(cls, method: _F) -> _F:
        """Decorator running a method inside ``self.name_scope``."""

        @functools.wraps(method)
        def wrapper(self: Module, *args: Any, **kwargs: Any) -> Any:
            with self.name_scope:
                return method(self, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    def __repr__(self) -> str:
        return object.__repr__(self)


def valid_identifier(name: str) -> bool:
    return bool(_VALID_IDENTIFIER.match(name))


def _is_variable(obj: Any) -> bool:
    return isinstance(obj, Variable)


def _is_trainable_variable(obj: Any) -> bool:
    return isinstance(obj, Variable) and obj.trainable


def _is_non_trainable_variable(obj: Any) -> bool:
    return isinstance(obj, Variable) and not obj.trainable


def _is_module(obj: Any) -> bool:
    return isinstance(obj, Module)


def _collect_leaves(
    value: Any, path: tuple[Any, ...], out: list[tuple[tuple[Any, ...], Any]]
) -> None:
    """Flatten nested lists, tuples and mappings (keys sorted) the way ``tf.nest`` does.

    Sets and other containers are leaves, as in TF.
    """
    if isinstance(value, _FAST_LEAVES):
        out.append((path, value))
    elif isinstance(value, (list, tuple)):
        if isinstance(value, _ATOMIC_SEQUENCES):
            out.append((path, value))
            return
        for index, item in enumerate(value):
            _collect_leaves(item, (*path, index), out)
    elif isinstance(value, Mapping):
        try:
            keys = sorted(value)
        except TypeError:
            keys = list(value)
        for key in keys:
            _collect_leaves(value[key], (*path, key), out)
    else:
        out.append((path, value))


_ATOMIC_SEQUENCES = (torch.Size, TensorShape)
# Types that are never containers: checked first, it is the common case.
_FAST_LEAVES = (Variable, Module, int, float, str, bytes, type(None), _name_scope)


class _Walk:
    """The fixed parameters of one traversal, and where its results go."""

    __slots__ = ("predicate", "key", "ignore", "with_path", "seen", "stack", "out")

    def __init__(
        self, predicate: Callable[[Any], bool], key: Any, ignore: frozenset[str], with_path: bool
    ):
        self.predicate = predicate
        self.key = key
        self.ignore = ignore
        self.with_path = with_path
        self.seen: set[int] = set()
        self.stack: list[int] = []
        self.out: list[Any] = []


def _flatten_module(
    module: Module,
    recursive: bool,
    predicate: Callable[[Any], bool],
    attribute_traversal_key: Callable[[str], Any] | None,
    attributes_to_ignore: frozenset[str],
    with_path: bool,
) -> Iterator[Any]:
    """TF's traversal: a module's leaves first (attributes sorted), then each submodule's."""
    walk = _Walk(predicate, attribute_traversal_key, attributes_to_ignore, with_path)
    walk.seen.add(id(module))
    _walk_module(walk, module, recursive, ())
    return iter(walk.out)


def _walk_module(
    walk: _Walk, module: Module, recursive: bool, module_path: tuple[Any, ...]
) -> None:
    module_id = id(module)
    if module_id in walk.stack:
        recursive = False
    module_dict = vars(module)
    submodules = []
    seen, predicate, out, with_path = walk.seen, walk.predicate, walk.out, walk.with_path
    for key in sorted(module_dict, key=walk.key):
        if key in walk.ignore:
            continue
        leaves: list[tuple[tuple[Any, ...], Any]] = []
        _collect_leaves(module_dict[key], (key,), leaves)
        for leaf_path, leaf in leaves:
            if not with_path:
                if id(leaf) in seen:
                    continue
                seen.add(id(leaf))
            if predicate(leaf):
                out.append((module_path + leaf_path, leaf) if with_path else leaf)
            if recursive and isinstance(leaf, Module):
                submodules.append((module_path + leaf_path, leaf))
    walk.stack.append(module_id)
    for submodule_path, submodule in submodules:
        _walk_module(walk, submodule, recursive, submodule_path)
    walk.stack.pop()

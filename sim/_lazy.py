"""Public faces imported on first use (PEP 562): a layer's names, each loaded when read.

Each layer folder's ``__init__`` names its public face and the module that defines each
name. Importing the folder, or one of its modules, imports none of the others: a command
that needs one module does not pay for the rest, and no face can close an import circle.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_face(
    package: str, table: Mapping[str, str], public: Iterable[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module-level ``__getattr__`` and ``__dir__`` of a package with a lazy face.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    table : Mapping[str, str]
        Public name -> the dotted module that defines it, imported when the name is read.
    public : Iterable[str]
        The package's ``__all__``.

    Returns
    -------
    tuple
        ``(__getattr__, __dir__)``, to be bound at the package's top level.

    Examples
    --------
    >>> getattr_, dir_ = lazy_face("sim.example", {"sqrt": "math"}, ["sqrt"])
    >>> getattr_("sqrt")(4.0)
    2.0
    """
    names = frozenset(public)

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    def __dir__() -> list[str]:
        own = vars(sys.modules[package]) if package in sys.modules else {}
        return sorted(names | set(own))

    return __getattr__, __dir__

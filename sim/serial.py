"""One serialiser for the frozen dataclasses that make up summary.json.

:func:`serialise` walks a dataclass's fields (:func:`dataclasses.fields`) and writes each
as its JSON form: a nested dataclass as an object, a tuple as a list, a mapping as an
object. What the schema asks beyond that is said once, beside the field, in its metadata
(:func:`spec`): a key other than the field's name, a field left out (always, when None,
when empty, or by a rule on its block), a sequence written as an object keyed by one of
its items' attributes, a block merged into its parent, a reshaping of the written value,
and whether the field is **money**.

Money is what a reporting currency (``[scenario] currency``) changes, so the conversion
is a property of the serialiser rather than a list of blocks kept elsewhere:

- a money field whose key does not end in ``_usd`` is written in the reporting currency,
  and its block says so with ``"currency": CODE`` (the field marked ``currency=True`` where
  the block has one, else a key added at its end);
- a money field whose key ends in ``_usd`` keeps its meaning, USD, and gains a twin right
  after it whose key ends in the currency's code instead (``value_usd`` and ``value_eur``),
  so that a key never changes its unit from one run to the next.

A USD run converts nothing and adds no key. A block whose items are not its fields (a
quantile table, a value computed from two fields) says so with a ``serial_fields`` method
that yields ``(key, value, Spec)`` items; ``serial_order`` (a class attribute) names items
in the order the schema writes them, where it differs from the fields' order.

This module imports nothing from the package, so every layer may mark its fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

__all__ = ["PLAIN", "Item", "Spec", "dataclass_items", "serialise", "spec"]

Omit: TypeAlias = Literal["always", "none", "empty"] | Callable[[Any], bool] | None
"""When a field is left out: always, when None, when empty, or when a rule on the block
(the dataclass instance) is true."""


@dataclass(frozen=True, slots=True)
class Spec:
    """How one field is written (see the module docstring).

    Attributes
    ----------
    key : str or None
        The JSON key; the field's name when None.
    money : bool
        An amount in USD (every number inside it, however nested).
    currency : bool
        The block's currency label: written as the reporting currency's code when the
        run converts, as stored otherwise.
    omit : {"always", "none", "empty"}, callable or None
        When the field is left out.
    keyed : str or None
        A sequence of blocks written as an object keyed by ``str(item.<keyed>)``.
    flatten : bool
        The written mapping merged into the parent block instead of nested under a key.
    shape : callable or None
        Applied to the written value (after conversion), e.g. to wrap it in an object.
    """

    key: str | None = None
    money: bool = False
    currency: bool = False
    omit: Omit = None
    keyed: str | None = None
    flatten: bool = False
    shape: Callable[[Any], Any] | None = None

    def omitted(self, block: Any, value: Any) -> bool:
        """Whether the field of ``block`` holding ``value`` is left out."""
        if self.omit is None:
            return False
        if self.omit == "always":
            return True
        if self.omit == "none":
            return value is None
        if self.omit == "empty":
            return not value
        return bool(self.omit(block))


PLAIN = Spec()
"""A field written under its own name, as it is."""

Item: TypeAlias = tuple[str, Any, Spec]
"""One written item of a block: its key, its value and how it is written."""


def spec(
    *,
    key: str | None = None,
    money: bool = False,
    currency: bool = False,
    omit: Omit = None,
    keyed: str | None = None,
    flatten: bool = False,
    shape: Callable[[Any], Any] | None = None,
) -> dict[str, Spec]:
    """Field metadata for :func:`dataclasses.field`: ``field(metadata=spec(money=True))``."""
    return {"serial": Spec(key, money, currency, omit, keyed, flatten, shape)}


def dataclass_items(block: Any) -> Iterator[Item]:
    """A dataclass instance's fields as items: key, value and :class:`Spec`."""
    for f in dataclasses.fields(block):
        s = f.metadata.get("serial", PLAIN)
        yield s.key or f.name, getattr(block, f.name), s


def serialise(value: Any, *, currency: str = "USD", usd_per_unit: float = 1.0) -> Any:
    """``value`` as JSON-able data, its money in ``currency`` (``usd_per_unit`` USD each).

    Parameters
    ----------
    value : dataclass instance, mapping, sequence or scalar
    currency : str
        The reporting currency's code; ``"USD"`` converts nothing.
    usd_per_unit : float
        Its rate, USD per unit (the scenario's ``[fx]`` rate).

    Returns
    -------
    Any
        Dicts, lists and scalars; a new object each call. Non-finite floats are left as
        they are (summary.json writes them as null).
    """
    return _Writer(currency, usd_per_unit).value(value, money=False)


@dataclass(frozen=True, slots=True)
class _Writer:
    code: str
    usd_per_unit: float

    @property
    def converts(self) -> bool:
        return self.code != "USD"

    def value(self, value: Any, *, money: bool) -> Any:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return self.block(value, money=money)
        if isinstance(value, Mapping):
            return {k: self.value(v, money=money) for k, v in value.items()}
        if isinstance(value, tuple | list):
            return [self.value(v, money=money) for v in value]
        if (
            money
            and self.converts
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        ):
            return value / self.usd_per_unit
        return value

    def block(self, block: Any, *, money: bool) -> dict[str, Any]:
        """One dataclass as an object; ``money`` when its parent marked it money."""
        items: Iterable[Item] = (
            block.serial_fields() if hasattr(block, "serial_fields") else dataclass_items(block)
        )
        order: tuple[str, ...] = getattr(type(block), "serial_order", ())
        if order:
            rank = {key: i for i, key in enumerate(order)}
            items = sorted(items, key=lambda item: rank.get(item[0], len(order)))
        out: dict[str, Any] = {}
        converted = labelled = False
        for key, value, s in items:
            if s.omitted(block, value):
                continue
            if s.keyed is not None:
                value = {str(getattr(item, s.keyed)): item for item in value}
            if s.currency:
                labelled = True
                written = self.code if self.converts else value
            elif s.money and key.endswith("_usd"):
                out[key] = self._shaped(s, self.value(value, money=False))
                if self.converts:
                    twin = f"{key.removesuffix('_usd')}_{self.code.lower()}"
                    out[twin] = self._shaped(s, self.value(value, money=True))
                continue
            else:
                written = self.value(value, money=money or s.money)
                converted = converted or (s.money and self.converts)
            written = self._shaped(s, written)
            if s.flatten:
                out.update(written)
            else:
                out[key] = written
        if converted and not labelled:
            out["currency"] = self.code
        return out

    @staticmethod
    def _shaped(s: Spec, written: Any) -> Any:
        return written if s.shape is None else s.shape(written)

"""Which drivers of the value depend on each other: the sensitivity analysis's groups.

A variance share is additive only over independent inputs. Two drivers are linked when
the scenario makes one depend on the other: a ``[[correlations]]`` pair (the copula), a
regime and each input a regime overrides (its distribution is the regime's), and a
shock's event indicator and its ``annual_probability``. A group is a connected set of
links; every driver in none is a group of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.scenario import Scenario
from sim.scenario.types import REGIME_INPUT

__all__ = ["GROUPING", "GROUPING_OF_RANKS", "dependent_groups"]

GROUPING = "grouped_first_order"
"""summary.json's ``sensitivity_method``: first-order indices of groups of dependent
inputs (:func:`dependent_groups`), each group taken together; see README, Sensitivity."""
GROUPING_OF_RANKS = "grouped_first_order_of_ranks"
"""The same rows, their shares those of the value's rank: where the value's variance is
infinite (a peer multiple, the exponential of a Student t), as the summary chooses."""


def dependent_groups(scenario: Scenario, names: Sequence[str]) -> list[list[int]]:
    """The drivers ``names`` as groups of indices, each group closed under dependence.

    Groups come in the order of their first driver, members in the order of ``names``;
    a link to a name not in ``names`` (a constant driver left out) links nothing.

    Examples
    --------
    Without regimes, correlations or random shock probabilities, every driver is alone:
    ``[[0], [1], ...]``.
    """
    index = {name: i for i, name in enumerate(names)}
    parent = list(range(len(names)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def link(a: str, b: str) -> None:
        if a in index and b in index:
            ra, rb = root(index[a]), root(index[b])
            parent[max(ra, rb)] = min(ra, rb)

    for c in scenario.correlations:
        link(*c.between)
    for name in scenario.regime_overrides():
        link(REGIME_INPUT, name)
    for shock in scenario.shocks:
        link(f"shocks.{shock.name}.events", f"shocks.{shock.name}.annual_probability")
    groups: dict[int, list[int]] = {}
    for i in range(len(names)):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])

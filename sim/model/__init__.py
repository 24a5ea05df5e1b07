"""The model: pure functions from one block's draws to its paths' values.

:mod:`~sim.model.core` (segment revenue, shocks, concentration, the valuation
method, the cash), :mod:`~sim.model.offering` (the deal: shares, proceeds, the
pricing grid, the offer price), :mod:`~sim.model.aftermarket` (day 1, the walk,
the peak, the fan) and :mod:`~sim.model.implied` (the DCF at the medians). It
imports the scenario layer (``sim.scenario``, ``sim.valuation``,
``sim.distributions``) and nothing above it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim._lazy import lazy_face

if TYPE_CHECKING:
    from sim.model.aftermarket import Walk, fan, walk
    from sim.model.core import InputSpec, PathValues, evaluate, inputs
    from sim.model.implied import implied_target_margins
    from sim.model.offering import Settlement, grid_prices, offer_price, settle

__all__ = [
    "InputSpec",
    "PathValues",
    "Settlement",
    "Walk",
    "evaluate",
    "fan",
    "grid_prices",
    "implied_target_margins",
    "inputs",
    "offer_price",
    "settle",
    "walk",
]

#: Public name -> the module that defines it, imported when first read.
_LAZY = {
    "InputSpec": "sim.model.core",
    "PathValues": "sim.model.core",
    "evaluate": "sim.model.core",
    "inputs": "sim.model.core",
    "Settlement": "sim.model.offering",
    "grid_prices": "sim.model.offering",
    "offer_price": "sim.model.offering",
    "settle": "sim.model.offering",
    "Walk": "sim.model.aftermarket",
    "fan": "sim.model.aftermarket",
    "walk": "sim.model.aftermarket",
    "implied_target_margins": "sim.model.implied",
}

__getattr__, __dir__ = lazy_face(__name__, _LAZY, __all__)

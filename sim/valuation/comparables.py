"""``[comparables]``: the EV/sales multiple from a peer table, by regression.

The log multiple of each peer, ``y = log(ev / revenue_ntm)``, is regressed on an
intercept and the named regressors (ordinary least squares). Under the reference prior
(flat in the coefficients and in ``log sigma``) the posterior predictive of a new
company's log multiple at ``x0 = (1, regressors)`` is a Student t with ``n - p``
degrees of freedom, location ``x0'b`` and scale ``s * sqrt(1 + x0'(X'X)^-1 x0)``, where
``b`` are the least-squares coefficients and ``s^2 = RSS / (n - p)`` (Gelman et al.,
*Bayesian Data Analysis*, section 14.2). The simulation draws it per path as
``x0'b + scale(x0) * t`` with ``t`` the keyed scalar input ``valuation.comparables``,
a standard t(n - p) (:class:`sim.distributions.student.StudentT`), so the draw is
sampled, stratified and correlated like every input and common random numbers hold.

Regressor names and their columns (:data:`REGRESSORS`): each regressor is a column of
the table and a value on every path, so only names with both are accepted.

========================  ====================  ==========================================
regressor                 column of the table   the path's value
========================  ====================  ==========================================
``growth``                ``growth_ntm``        the path's total revenue growth into the
                                                valuation year, before shocks (simple
                                                rate: 0.8 = +80%)
``gross_margin``          ``gross_margin``      ``[valuation] gross_margin``, a fraction
                                                or a distribution
========================  ====================  ==========================================

This module is pure: the table arrives as arrays (the scenario loader, the one layer
that reads files, reads the CSV: :mod:`sim.scenario.peers`).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from sim.distributions.student import t_quantile
from sim.errors import ScenarioError

__all__ = [
    "INTERVAL",
    "REGRESSORS",
    "Comparables",
    "Regressor",
    "fit_comparables",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Regressor:
    """A regressor's column in the peer table and where a path's value comes from."""

    column: str
    path_value: str


REGRESSORS: Mapping[str, Regressor] = {
    "growth": Regressor(
        "growth_ntm",
        "the path's revenue growth into the valuation year, before shocks",
    ),
    "gross_margin": Regressor("gross_margin", "valuation.gross_margin"),
}
"""Every regressor a scenario may name: its column and its value on a path."""

INTERVAL = 0.90
"""The coverage of the coefficients' intervals (t quantiles with n - p df)."""


@dataclass(frozen=True, slots=True, eq=False)
class Comparables:
    """A fitted peer table: the regression and the peers it rests on.

    Attributes
    ----------
    file : str
        The table's file as the scenario names it (``comparables.file``).
    sha256 : str
        SHA-256 of the file's bytes.
    regressors : tuple of str
        The regressors in order (names of :data:`REGRESSORS`); the coefficients are the
        intercept's, then theirs.
    names : tuple of str
        The peers used (the usable rows), in the table's order.
    as_of : tuple of datetime.date
        Each peer's price date.
    venue : tuple of str
        Each peer's listing venue.
    x : (n, p) array
        The design matrix: a column of ones, then the regressors' columns.
    y : (n,) array
        ``log(ev / revenue_ntm)`` of each peer.
    coef : (p,) array
        Least-squares coefficients ``b``.
    xtx_inv : (p, p) array
        ``(X'X)^-1``.
    residual_sd : float
        ``s = sqrt(RSS / (n - p))``.
    r2 : float
        ``1 - RSS / TSS`` (0 with no regressors).
    growth : (n,) array
        Each peer's ``growth_ntm`` (NaN where the table leaves it empty), the axis the
        report draws the peers on whether or not ``growth`` is a regressor.
    left_out : tuple of str
        Rows left out for a missing value in a column the fit needs, as ``"name (column)"``.
    after_as_of : tuple of str
        Peers priced after the scenario's ``as_of`` (allowed up to ``listing_date``; noted
        by ``show``).
    """

    file: str
    sha256: str
    regressors: tuple[str, ...]
    names: tuple[str, ...]
    as_of: tuple[datetime.date, ...]
    venue: tuple[str, ...]
    x: FloatArray
    y: FloatArray
    coef: FloatArray
    xtx_inv: FloatArray
    residual_sd: float
    r2: float
    growth: FloatArray
    left_out: tuple[str, ...] = ()
    after_as_of: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        """Peers in the fit."""
        return int(self.x.shape[0])

    @property
    def p(self) -> int:
        """Coefficients, the intercept's included."""
        return int(self.x.shape[1])

    @property
    def df(self) -> int:
        """Degrees of freedom of the predictive t: ``n - p``."""
        return self.n - self.p

    @property
    def terms(self) -> tuple[str, ...]:
        """The coefficients' names: ``intercept``, then the regressors."""
        return ("intercept", *self.regressors)

    def coefficient_se(self) -> FloatArray:
        """Each coefficient's standard error, ``s * sqrt(diag((X'X)^-1))``, (p,)."""
        return np.asarray(self.residual_sd * np.sqrt(np.diag(self.xtx_inv)), dtype=np.float64)

    def intervals(self, level: float = INTERVAL) -> FloatArray:
        """Each coefficient's central ``level`` interval, (p, 2): ``b -+ t * se``.

        The marginal posterior of each coefficient under the reference prior is a t with
        ``n - p`` degrees of freedom around ``b`` with scale its standard error.
        """
        t = t_quantile(0.5 + level / 2.0, self.df)
        se = self.coefficient_se()
        return np.column_stack((self.coef - t * se, self.coef + t * se))

    def predictive(self, x0: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Location and scale of the log multiple's predictive t at ``x0``.

        Parameters
        ----------
        x0 : (p, m) array
            One column per point: 1, then the regressors' values.

        Returns
        -------
        loc, scale : (m,) arrays
            ``x0'b`` and ``s * sqrt(1 + x0'(X'X)^-1 x0)``.
        """
        x0 = np.asarray(x0, dtype=np.float64)
        loc = self.coef @ x0
        quad = np.einsum("jm,jk,km->m", x0, self.xtx_inv, x0)
        return loc, self.residual_sd * np.sqrt(1.0 + quad)

    def to_dict(self) -> dict[str, Any]:
        """The fit as JSON-able data (``show --json`` and summary.json)."""
        se = self.coefficient_se()
        ci = self.intervals()
        return {
            "file": self.file,
            "sha256": self.sha256,
            "regressors": {
                name: {
                    "column": REGRESSORS[name].column,
                    "path_value": REGRESSORS[name].path_value,
                }
                for name in self.regressors
            },
            "n": self.n,
            "df": self.df,
            "coefficients": [
                {
                    "term": term,
                    "estimate": float(self.coef[j]),
                    "se": float(se[j]),
                    f"ci{round(INTERVAL * 100)}": [float(ci[j, 0]), float(ci[j, 1])],
                }
                for j, term in enumerate(self.terms)
            ],
            "residual_sd": self.residual_sd,
            "r2": self.r2,
            "peers": [
                {
                    "name": name,
                    "as_of": day.isoformat(),
                    "venue": venue,
                    "multiple": math.exp(float(y)),
                    "growth_ntm": _or_none(float(self.growth[i])),
                    **{
                        REGRESSORS[r].column: float(self.x[i, j + 1])
                        for j, r in enumerate(self.regressors)
                    },
                }
                for i, (name, day, venue, y) in enumerate(
                    zip(self.names, self.as_of, self.venue, self.y, strict=True)
                )
            ],
            "left_out": list(self.left_out),
            "after_as_of": list(self.after_as_of),
        }


def fit_comparables(
    *,
    file: str,
    sha256: str,
    regressors: tuple[str, ...],
    names: tuple[str, ...],
    as_of: tuple[datetime.date, ...],
    venue: tuple[str, ...],
    x: FloatArray,
    y: FloatArray,
    growth: FloatArray | None = None,
    left_out: tuple[str, ...] = (),
    after_as_of: tuple[str, ...] = (),
    path: str = "comparables",
) -> Comparables:
    """Fit the regression of ``y`` on ``x`` (least squares) and check it can be used.

    Parameters
    ----------
    x : (n, p) array
        A column of ones, then one column per regressor.
    y : (n,) array
        The peers' log multiples.
    growth : (n,) array, optional
        The peers' ``growth_ntm`` (NaN where unknown); by default the regressor
        ``growth``'s column, else NaN.
    path : str
        The key path errors name (``"comparables"``).

    Raises
    ------
    ScenarioError
        Fewer than ``p + 3`` rows (the predictive t then has fewer than 3 degrees of
        freedom and no finite variance), regressors that are collinear in the table, or
        a table the fit reproduces exactly (no residual spread to predict with).
    """
    n, p = x.shape
    if n < p + 3:
        raise ScenarioError(
            f"{file} has {n} usable peer rows for {p} coefficients (the intercept and "
            f"{p - 1} regressors): at least p + 3 = {p + 3} are needed (name fewer "
            "regressors or add peers)",
            path=f"{path}.file",
        )
    if np.linalg.matrix_rank(x) < p:
        raise ScenarioError(
            f"the regressors {list(regressors)} are collinear in {file} (a column is "
            "constant or a combination of the others): drop one",
            path=f"{path}.regressors",
        )
    coef, _, _, _ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    rss = float(resid @ resid)
    if not rss > 1e-24 * max(1.0, float(y @ y)):
        raise ScenarioError(
            f"the regression reproduces {file}'s multiples exactly (no residual spread): "
            "there is nothing to predict a new company's spread from",
            path=f"{path}.file",
        )
    if growth is None:
        growth = (
            x[:, 1 + regressors.index("growth")] if "growth" in regressors else np.full(n, np.nan)
        )
    centred = y - y.mean()
    tss = float(centred @ centred)
    return Comparables(
        file=file,
        sha256=sha256,
        regressors=regressors,
        names=names,
        as_of=as_of,
        venue=venue,
        x=_frozen(x),
        y=_frozen(y),
        coef=_frozen(coef),
        xtx_inv=_frozen(np.linalg.inv(x.T @ x)),
        residual_sd=math.sqrt(rss / (n - p)),
        r2=1.0 - rss / tss if tss > 0 else 0.0,
        growth=_frozen(growth),
        left_out=left_out,
        after_as_of=after_as_of,
    )


def _or_none(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _frozen(a: npt.ArrayLike) -> FloatArray:
    out = np.array(a, dtype=np.float64)
    out.setflags(write=False)
    return out

"""Statistics: streaming moments, exact threshold counts, a mergeable quantile sketch,
intervals for proportions and quantiles, and sensitivity: rank correlations, first-order
(variance-based) indices from given data with bootstrap intervals, and swings.

Everything that summarises a block is mergeable, so a run of any length holds memory
bounded by the block, and merging in block order gives the same numbers for any number of
workers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import overload

import numpy as np
import numpy.typing as npt
from scipy.special import bdtr, ndtri

__all__ = [
    "QuantileSketch",
    "Stream",
    "first_order",
    "first_order_bootstrap",
    "quantile_interval",
    "rank_bins",
    "sensitivity",
    "spearman",
    "swing",
    "wilson_interval",
]

FloatArray = npt.NDArray[np.float64]
Z95 = float(ndtri(0.975))
QUANTILE_LEVELS = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)


@overload
def wilson_interval(successes: int, n: int, z: float = ...) -> tuple[float, float]: ...


@overload
def wilson_interval(
    successes: npt.ArrayLike, n: npt.ArrayLike, z: float = ...
) -> tuple[FloatArray, FloatArray]: ...


def wilson_interval(
    successes: npt.ArrayLike, n: npt.ArrayLike, z: float = Z95
) -> tuple[float, float] | tuple[FloatArray, FloatArray]:
    """Wilson score interval for a proportion (well-behaved near 0 and 1).

    Parameters
    ----------
    successes, n : int or array_like
        Counts of successes and of trials; arrays (broadcast against each other) give an
        interval per element, e.g. a curve's band.
    z : float
        The normal quantile of the two-sided level (1.96 for 95 %).

    Returns
    -------
    (lo, hi) : two floats for integer arguments, else two float64 arrays
        ``(0, 1)`` where ``n <= 0``.

    Examples
    --------
    >>> lo, hi = wilson_interval(0, 100)
    >>> lo == 0.0 and 0.03 < hi < 0.04
    True
    >>> lo, hi = wilson_interval(np.array([0, 50, 100]), 100)
    >>> lo.shape, float(hi[2])
    ((3,), 1.0)
    """
    if isinstance(successes, int | np.integer) and isinstance(n, int | np.integer):
        return _wilson_scalar(int(successes), int(n), z)
    k = np.asarray(successes, dtype=np.float64)
    trials = np.asarray(n, dtype=np.float64)
    nn = np.where(trials > 0, trials, 1.0)
    p = k / nn
    denom = 1.0 + z * z / nn
    centre = (p + z * z / (2 * nn)) / denom
    half = z * np.sqrt(np.maximum(p * (1 - p), 0.0) / nn + z * z / (4 * nn * nn)) / denom
    # At k = 0 or k = n the exact bound is 0 or 1; rounding must not lose it.
    lo = np.where((k <= 0) | (trials <= 0), 0.0, np.maximum(0.0, centre - half))
    hi = np.where((k >= trials) | (trials <= 0), 1.0, np.minimum(1.0, centre + half))
    return lo, hi


def _wilson_scalar(successes: int, n: int, z: float) -> tuple[float, float]:
    """:func:`wilson_interval` for one count, in Python floats (exact for any ``n``)."""
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return (lo, hi)


def proportion_se(successes: int, n: int) -> float:
    """Binomial standard error ``sqrt(p (1 - p) / n)`` of an estimated proportion."""
    if n <= 0:
        return math.nan
    p = successes / n
    return math.sqrt(p * (1 - p) / n)


class QuantileSketch:
    """A mergeable quantile sketch with relative error ``alpha`` (DDSketch-style).

    Values are counted in logarithmic buckets ``(gamma^(i-1), gamma^i]`` with
    ``gamma = (1 + alpha) / (1 - alpha)``; negatives in a mirrored store; exact zeros
    apart. Any quantile it returns is within relative error ``alpha`` of a value whose
    rank is the requested rank (Masson, Rim and Lee, 2019). Merging adds counts, so it is
    exact and order-independent.

    Parameters
    ----------
    alpha : float
        Relative accuracy, e.g. ``1e-3`` for 0.1 %.
    """

    __slots__ = ("_neg", "_neg_lo", "_pos", "_pos_lo", "alpha", "count", "gamma", "zeros")

    #: Magnitudes below this count as zero (far below a cent of any currency).
    TINY = 1e-12

    def __init__(self, alpha: float = 1e-3) -> None:
        self.alpha = alpha
        self.gamma = (1.0 + alpha) / (1.0 - alpha)
        self.count = 0
        self.zeros = 0
        self._pos = np.zeros(0, dtype=np.int64)
        self._pos_lo = 0
        self._neg = np.zeros(0, dtype=np.int64)
        self._neg_lo = 0

    def _index(self, magnitude: FloatArray) -> npt.NDArray[np.int64]:
        scaled = np.log(magnitude)
        scaled *= 1.0 / math.log(self.gamma)
        return np.ceil(scaled, out=scaled).astype(np.int64)

    @staticmethod
    def _add(
        store: npt.NDArray[np.int64],
        lo: int,
        idx: npt.NDArray[np.int64],
        counts: npt.NDArray[np.int64] | None = None,
    ) -> tuple[npt.NDArray[np.int64], int]:
        if idx.size == 0:
            return store, lo
        new_lo = int(idx.min()) if store.size == 0 else min(lo, int(idx.min()))
        new_hi = int(idx.max()) if store.size == 0 else max(lo + store.size - 1, int(idx.max()))
        out = np.zeros(new_hi - new_lo + 1, dtype=np.int64)
        if store.size:
            out[lo - new_lo : lo - new_lo + store.size] += store
        out += np.bincount(idx - new_lo, weights=counts, minlength=out.size).astype(np.int64)
        return out, new_lo

    def update(self, values: FloatArray) -> None:
        """Count the finite values of ``values``."""
        x = np.asarray(values, dtype=np.float64).ravel()
        if x.size == 0:
            return
        finite = np.isfinite(x)
        if not finite.all():
            x = x[finite]
        self.count += x.size
        if x.size and x.min() >= self.TINY:
            # The usual case (values, revenues, shares): all positive, no masks needed.
            self._pos, self._pos_lo = self._add(self._pos, self._pos_lo, self._index(x))
            return
        small = np.abs(x) < self.TINY
        self.zeros += int(small.sum())
        pos = x[(x > 0) & ~small]
        neg = -x[(x < 0) & ~small]
        self._pos, self._pos_lo = self._add(self._pos, self._pos_lo, self._index(pos))
        self._neg, self._neg_lo = self._add(self._neg, self._neg_lo, self._index(neg))

    def merge(self, other: QuantileSketch) -> None:
        """Add ``other``'s counts into this sketch (same ``alpha``)."""
        if other.alpha != self.alpha:
            raise ValueError("cannot merge sketches of different accuracy")
        self.count += other.count
        self.zeros += other.zeros
        for attr in ("_pos", "_neg"):
            theirs: npt.NDArray[np.int64] = getattr(other, attr)
            if theirs.size:
                idx = np.arange(theirs.size, dtype=np.int64) + getattr(other, attr + "_lo")
                store, lo = self._add(
                    getattr(self, attr), getattr(self, attr + "_lo"), idx, theirs
                )
                setattr(self, attr, store)
                setattr(self, attr + "_lo", lo)

    def _value(self, i: int) -> float:
        # The bucket's midpoint in relative terms: within alpha of every value inside.
        return 2.0 * self.gamma**i / (self.gamma + 1.0)

    def quantile(self, q: float) -> float:
        """The value at rank ``q * (count - 1)`` within relative error ``alpha``."""
        if self.count == 0:
            return math.nan
        rank = q * (self.count - 1)
        seen = 0
        # Negatives from most negative (largest magnitude) to least.
        for j in range(self._neg.size - 1, -1, -1):
            seen += int(self._neg[j])
            if seen > rank:
                return -self._value(j + self._neg_lo)
        seen += self.zeros
        if seen > rank:
            return 0.0
        cum = np.cumsum(self._pos) + seen
        j = int(np.searchsorted(cum, rank, side="right"))
        return self._value(min(j, self._pos.size - 1) + self._pos_lo)


@dataclass(slots=True)
class Stream:
    """Streaming statistics of one metric: moments, exact threshold counts, a sketch.

    Parameters
    ----------
    thresholds : sequence of float
        Values ``t`` for which the exact count of ``x >= t`` is kept.
    """

    thresholds: tuple[float, ...] = ()
    n: int = 0
    mean: float = 0.0
    m2: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    at_least: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    sketch: QuantileSketch = field(default_factory=QuantileSketch)

    def __post_init__(self) -> None:
        if self.at_least.size != len(self.thresholds):
            self.at_least = np.zeros(len(self.thresholds), dtype=np.int64)

    def update(self, values: FloatArray) -> None:
        """Add a block of values (finite; NaN would poison the moments)."""
        x = np.asarray(values, dtype=np.float64).ravel()
        if x.size == 0:
            return
        other = Stream(self.thresholds)
        other.n = x.size
        other.mean = float(x.mean())
        d = x - other.mean
        other.m2 = float(np.square(d, out=d).sum())  # the same sum as ((x - mean) ** 2).sum()
        other.minimum = float(x.min())
        other.maximum = float(x.max())
        if self.thresholds:
            # One pass per threshold: an (n, thresholds) comparison summed down its strided
            # axis cost several times as much.
            other.at_least = np.array(
                [np.count_nonzero(x >= t) for t in self.thresholds], dtype=np.int64
            )
        other.sketch.update(x)
        self.merge(other)

    def merge(self, other: Stream) -> None:
        """Chan et al.'s parallel update of the moments; counts and sketch add."""
        if other.n == 0:
            return
        n = self.n + other.n
        delta = other.mean - self.mean
        self.mean += delta * other.n / n
        self.m2 += other.m2 + delta * delta * self.n * other.n / n
        self.n = n
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)
        self.at_least = self.at_least + other.at_least
        self.sketch.merge(other.sketch)

    @property
    def sd(self) -> float:
        """The sample standard deviation, ddof=1 (divided by n - 1, as ``np.std(x,
        ddof=1)``); NaN below two values."""
        return math.sqrt(self.m2 / (self.n - 1)) if self.n > 1 else math.nan

    @property
    def se(self) -> float:
        """Standard error of the mean."""
        return self.sd / math.sqrt(self.n) if self.n > 1 else math.nan

    def count_at_least(self, threshold: float) -> int:
        return int(self.at_least[self.thresholds.index(threshold)])


def binomial_ppf(level: float, n: int, p: float) -> int:
    """The smallest ``k`` in ``0..n`` with ``P(B <= k) >= level``, ``B ~ Binomial(n, p)``
    (``scipy.stats.binom.ppf`` for ``0 < level < 1``, by bisection on the distribution
    function ``scipy.special.bdtr``: scipy.stats takes half a second to import, which
    was a fifth of a run that writes JSON and CSV).

    >>> binomial_ppf(0.5, 10, 0.5), binomial_ppf(0.975, 1, 0.5), binomial_ppf(0.025, 4, 0.0)
    (5, 1, 0)
    """
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) // 2
        if bdtr(mid, n, p) >= level:
            hi = mid
        else:
            lo = mid + 1
    return lo


def quantile_interval(
    sorted_values: FloatArray | None, sketch: QuantileSketch | None, n: int, q: float
) -> tuple[float, float]:
    """A distribution-free 95 % interval for the ``q`` quantile from order statistics.

    With ``B ~ Binomial(n, q)``, the order statistics ``X_(l)`` and ``X_(u)`` for
    ``l = F_B^-1(0.025)`` and ``u = F_B^-1(0.975) + 1`` bracket the true quantile with
    probability at least 95 %. Where ``l`` falls before the first path or ``u`` after the
    last, that side is unbounded (-inf / inf): too few paths to say, and an expectation
    on it stays inconclusive. Values come from the exact sorted sample when it is kept,
    else from the sketch, widened by its relative error.

    >>> quantile_interval(np.array([1.0]), None, 1, 0.5)
    (-inf, inf)
    """
    lo_order = binomial_ppf(0.025, n, q)  # 1-based order statistics
    hi_order = binomial_ppf(0.975, n, q) + 1
    if sorted_values is not None and sorted_values.size == n:
        lo = float(sorted_values[lo_order - 1]) if lo_order >= 1 else -math.inf
        hi = float(sorted_values[hi_order - 1]) if hi_order <= n else math.inf
        return lo, hi
    if sketch is None:
        return (math.nan, math.nan)
    denom = max(n - 1, 1)
    lo = sketch.quantile((lo_order - 1) / denom) if lo_order >= 1 else -math.inf
    hi = sketch.quantile((hi_order - 1) / denom) if hi_order <= n else math.inf
    alpha = sketch.alpha
    return lo - alpha * abs(lo), hi + alpha * abs(hi)


def _runs(column: FloatArray) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], FloatArray]:
    """One sort of ``column``: its order, each path's run of equal values in that order
    (the run's first position) and the sorted values.

    Returns
    -------
    (order, start, srt): ``start[i]`` is the sorted position where the run holding sorted
    position ``i`` begins.
    """
    order = np.argsort(column)
    srt = column[order]
    start = np.arange(srt.size)
    start[1:][srt[1:] == srt[:-1]] = 0
    np.maximum.accumulate(start, out=start)
    return order, start, srt


def _average_ranks(order: npt.NDArray[np.intp], start: npt.NDArray[np.intp]) -> FloatArray:
    """1-based ranks with ties averaged (scipy's ``rankdata``), from :func:`_runs`."""
    n = order.size
    # Each run's last position: the next run's first position, less one.
    end = np.empty(n, dtype=np.intp)
    if n:
        is_last = np.empty(n, dtype=bool)
        is_last[:-1] = start[1:] != start[:-1]
        is_last[-1] = True
        last = np.flatnonzero(is_last)
        end = np.repeat(last, np.diff(last, prepend=-1))
    ranks = np.empty(n)
    ranks[order] = (start + end) / 2.0 + 1.0
    return ranks


def _correlate_ranks(rx: FloatArray, ry: FloatArray) -> float:
    """Pearson correlation of one input's ranks with the output's standardised ranks."""
    sd = rx.std()
    if not sd > 0:
        return math.nan
    return float(np.mean((rx - rx.mean()) / sd * ry))


def _standard_ranks(output: FloatArray) -> FloatArray:
    """The output's average ranks, centred and scaled to unit standard deviation."""
    ry = _average_ranks(*_runs(np.asarray(output, dtype=float))[:2])
    return np.asarray((ry - ry.mean()) / (ry.std() or 1.0), dtype=float)


def spearman(inputs: FloatArray, output: FloatArray) -> FloatArray:
    """Spearman rank correlation of each column of ``inputs`` (n, k) with ``output`` (n,).

    A constant column gives NaN.
    """
    ry = _standard_ranks(output)
    return np.array(
        [
            _correlate_ranks(_average_ranks(*_runs(inputs[:, j])[:2]), ry)
            for j in range(inputs.shape[1])
        ],
        dtype=float,
    )


def quantiles(values: FloatArray, levels: Sequence[float] = QUANTILE_LEVELS) -> dict[str, float]:
    """Exact sample quantiles keyed as in ``summary.json`` (``"0.05"``...)."""
    qs = np.quantile(values, levels)
    return {f"{q:g}": float(v) for q, v in zip(levels, qs, strict=True)}


#: Bootstrap replicates behind each first-order index's standard error and 95% interval.
#: Each costs three passes over the kept paths per driver: enough for a standard error
#: (about 10% relative error), not for the tails a percentile interval would read.
BOOTSTRAP_REPS = 50


def _bins_for(n: int) -> int:
    """Equiprobable bins for ``n`` paths: ``n^(2/3)``, with at least 16 paths in each.

    Many narrow bins keep the discretisation bias (the variation of ``E[Y | X]`` inside a
    bin, worst in the tail bins) small; the noise that more bins add to the between-bin
    sum of squares is what the correction removes.
    """
    return max(2, min(round(math.pow(n, 2 / 3)), n // 16))


def rank_bins(inputs: FloatArray, bins: int | None = None) -> npt.NDArray[np.intp]:
    """Each path's equiprobable bin by rank, per input: (k, n) bin numbers in ``[0, bins)``.

    ``bins`` defaults to ``n^(2/3)`` with at least 16 paths a bin, so the bins and the
    paths in each grow together. Tied values share the bin of the first of them: an input with few
    distinct values (an event indicator) gets a bin per value, which conditions on it
    exactly.
    """
    n, k = inputs.shape
    m = bins if bins is not None else _bins_for(n)
    ids = np.empty((k, n), dtype=np.intp)
    for j in range(k):  # a loop over inputs, each vectorised over paths
        order, start, _ = _runs(inputs[:, j])
        ids[j, order] = _bin_of(start, m, n)
    return ids


def _bin_of(start: npt.NDArray[np.intp], bins: int, n: int) -> npt.NDArray[np.intp]:
    """The bin of each sorted position from its run's first position (:func:`_runs`)."""
    return start * bins // max(n, 1)


def _bin_sizes(ids: npt.NDArray[np.intp], bins: int) -> FloatArray:
    """Paths in each bin, (k, bins)."""
    return np.stack([np.bincount(row, minlength=bins) for row in ids]).astype(float)


def _first_order_binned(
    ids: npt.NDArray[np.intp],
    y: FloatArray,
    bins: int,
    weights: FloatArray | None = None,
    sizes: FloatArray | None = None,
) -> FloatArray:
    """The bias-corrected between-bin share of variance of ``y`` for each row of ``ids``.

    With ``weights`` (a bootstrap's path counts), each path counts that many times;
    ``sizes`` are the bins' unweighted path counts (:func:`_bin_sizes`), computed once.
    """
    k, n = ids.shape
    w = np.ones(n) if weights is None else weights
    wy = w * y
    total_w = float(w.sum())
    mean = float(wy.sum()) / total_w
    sst = float((w * (y - mean) ** 2).sum())
    cnt = np.empty((k, bins))
    s1 = np.empty((k, bins))
    for j in range(k):
        cnt[j] = np.bincount(ids[j], weights=w, minlength=bins)
        s1[j] = np.bincount(ids[j], weights=wy, minlength=bins)
    full = cnt > 0
    safe = np.where(full, cnt, 1.0)
    ssb = (s1 * s1 / safe).sum(axis=1) - total_w * mean * mean
    # When y does not depend on the bin, E[SSB] = df_b sigma^2 and E[SSW] = df_w sigma^2:
    # remove that noise share (one-way ANOVA's epsilon squared). Unweighted, df_b = M - 1
    # and df_w = n - M; with a bootstrap's path counts w, a bin's mean is noisier,
    # df_b = sum_b (sum_{i in b} w_i^2) / W_b - sum_i w_i^2 / W.
    if weights is None:
        q = full.sum(axis=1).astype(float)
        df_b, df_w = q - 1.0, total_w - q
    else:
        # A path's count enters a bin's sum of squared weights; given the bin's total count
        # C_b over its n_b paths, E[sum w_i^2] = C_b + C_b (C_b - 1) / n_b (a multinomial
        # within the bin): read from that, not from a third pass over the paths.
        if sizes is None:
            sizes = _bin_sizes(ids, bins)
        q = np.where(full, 1.0 + (cnt - 1.0) / np.where(sizes > 0, sizes, 1.0), 0.0).sum(axis=1)
        df_b, df_w = q - float((w * w).sum()) / total_w, total_w - q
    # Not clipped at 0: an input with no effect scatters around 0, below it as often as
    # above.
    msw = (sst - ssb) / np.maximum(df_w, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = (ssb - df_b * msw) / sst
    return np.where((sst > 0) & (full.sum(axis=1) > 1), s, math.nan)


def first_order(inputs: FloatArray, output: FloatArray, bins: int | None = None) -> FloatArray:
    """First-order variance-based (Sobol) index of each column of ``inputs`` (n, k).

    ``S_i = Var(E[Y | X_i]) / Var(Y)``, estimated from given data (the paths already run,
    no extra model runs): the paths are split into ``bins`` equiprobable bins by the rank
    of ``X_i`` (:func:`rank_bins`), ``E[Y | X_i]`` is read as each bin's mean, and the
    between-bin sum of squares is corrected for the sampling noise it carries (one-way
    ANOVA's epsilon squared: ``(SSB - (M - 1) MSW) / SST`` with ``M`` bins in use).

    Why binning: it needs nothing but the kept paths (whatever joint design drew them),
    works on any marginal (ranks make it invariant to monotone transforms of the input)
    and on 0/1 event indicators (a bin per value), and is one pass of sums per input.
    Without the correction a no-effect input would read about ``(M - 1) / n``; equal bins
    keep the correction right when the noise differs from bin to bin. What bias remains
    is the variation of ``E[Y | X_i]`` inside a bin (a slight underestimate, largest for
    an input whose effect is steep in its tails), which shrinks as the bins narrow: the
    default is ``M = n^(2/3)``.

    Returns
    -------
    (k,) array; NaN for a constant input or output.
    """
    m = bins if bins is not None else _bins_for(inputs.shape[0])
    return _first_order_binned(rank_bins(inputs, m), np.asarray(output, dtype=float), m)


def first_order_bootstrap(
    inputs: FloatArray,
    output: FloatArray,
    *,
    rng: np.random.Generator,
    reps: int = BOOTSTRAP_REPS,
    bins: int | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`first_order` with a bootstrap 95% interval from resampled paths.

    Each replicate draws ``n`` paths with replacement (as per-path counts) and recomputes
    every index with the bins held at the sample's: the bin edges are the input's
    quantiles, whose sampling error is of a smaller order than that of the bin means. The
    interval is the estimate +- 1.96 bootstrap standard errors (the estimator is a smooth
    function of bin means, close to normal; a percentile interval would need many more
    replicates, each a pass over every kept path).

    Returns
    -------
    (estimate, lo, hi), each (k,); the bounds NaN with fewer than 2 paths or replicates.
    """
    n, k = inputs.shape
    m = bins if bins is not None else _bins_for(n)
    y = np.asarray(output, dtype=float)
    ids = rank_bins(inputs, m)
    est = _first_order_binned(ids, y, m)
    if n < 2 or reps < 2:
        nan = np.full(k, math.nan)
        return est, nan, nan
    se = _bootstrap_se(ids, y, m, rng=rng, reps=reps)
    return est, est - Z95 * se, est + Z95 * se


#: Replicates summed together: one sparse product per input adds up this many at once.
_BOOTSTRAP_CHUNK = 10


def _bootstrap_se(
    ids: npt.NDArray[np.intp], y: FloatArray, bins: int, *, rng: np.random.Generator, reps: int
) -> FloatArray:
    """The bootstrap standard error of each row's first-order index (see
    :func:`first_order_bootstrap`).

    Each replicate's per-path counts are drawn as one replicate at a time would draw them;
    the bin sums of a chunk of replicates are one product of a sparse (bins, paths)
    indicator per input with the chunk's (paths, 2 x chunk) counts and weighted outputs,
    in float32 over outputs centred at their mean (counts are exact below 2^24 paths; the
    sums' rounding, about 1e-7 of the between-bin sum of squares, is far below the
    bootstrap's own noise).
    """
    from scipy import sparse  # slow to import: loaded where used

    k, n = ids.shape
    sizes = _bin_sizes(ids, bins)
    yc = y - y.mean()
    # The index is a ratio of sums of squares, the same in any unit: scaled to at most 1,
    # values beyond float32's 3.4e38 (finite in float64) neither overflow nor turn NaN.
    peak = float(np.abs(yc).max()) if n else 0.0
    if peak > 0.0:
        yc = yc / peak
    yc32 = yc.astype(np.float32)
    ones = np.ones(n, dtype=np.float32)
    cols = np.arange(n)
    indicators = [sparse.csr_matrix((ones, (ids[j], cols)), shape=(bins, n)) for j in range(k)]
    boots = np.empty((reps, k))
    for r0 in range(0, reps, _BOOTSTRAP_CHUNK):
        rr = min(_BOOTSTRAP_CHUNK, reps - r0)
        w = np.empty((rr, n))
        for r in range(rr):  # a loop over replicates, each vectorised over paths
            w[r] = np.bincount(rng.integers(0, n, n), minlength=n)
        both = np.empty((n, 2 * rr), dtype=np.float32)
        both[:, :rr] = w.T
        both[:, rr:] = (w * yc32).T
        # einsum rather than w @ yc: a BLAS product may wait on its threads (sim.run.checks).
        total_w = w.sum(axis=1)
        mean = np.einsum("ri,i->r", w, yc) / total_w
        # yc is centred, so each replicate's mean is small: no cancellation here.
        sst = np.einsum("ri,i->r", w, yc * yc) - total_w * mean * mean
        sum_ww = np.einsum("ri,ri->r", w, w)
        for j in range(k):  # a loop over inputs, each a product over paths
            sums = np.asarray(indicators[j] @ both, dtype=float)
            boots[r0 : r0 + rr, j] = _index_from_sums(
                sums[:, :rr].T, sums[:, rr:].T, total_w, mean, sst, sum_ww, sizes[j]
            )
    # A replicate that resampled no path of a dominant outlier may see a constant output
    # (its index undefined): the spread is that of the replicates that have one.
    defined = np.isfinite(boots)
    count = defined.sum(axis=0)
    mean = np.where(defined, boots, 0.0).sum(axis=0) / np.maximum(count, 1)
    dev = np.where(defined, boots - mean, 0.0)
    var = (dev * dev).sum(axis=0) / np.maximum(count - 1, 1)
    return np.where(count >= 2, np.sqrt(var), math.nan)


def _index_from_sums(
    cnt: FloatArray,
    s1: FloatArray,
    total_w: FloatArray,
    mean: FloatArray,
    sst: FloatArray,
    sum_ww: FloatArray,
    sizes: FloatArray,
) -> FloatArray:
    """:func:`_first_order_binned`'s weighted index, one row per replicate: ``cnt`` and
    ``s1`` (replicates, bins) are the bins' counts and sums of the centred output."""
    full = cnt > 0
    safe = np.where(full, cnt, 1.0)
    ssb = (s1 * s1 / safe).sum(axis=1) - total_w * mean * mean
    q = np.where(full, 1.0 + (cnt - 1.0) / np.where(sizes > 0, sizes, 1.0), 0.0).sum(axis=1)
    df_b, df_w = q - sum_ww / total_w, total_w - q
    msw = (sst - ssb) / np.maximum(df_w, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = (ssb - df_b * msw) / sst
    return np.where((sst > 0) & (full.sum(axis=1) > 1), s, math.nan)


def sensitivity(
    inputs: FloatArray,
    output: FloatArray,
    *,
    rng: np.random.Generator,
    reps: int = BOOTSTRAP_REPS,
    groups: Sequence[Sequence[int]] | None = None,
    of_ranks: bool = False,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """:func:`spearman`, :func:`first_order_bootstrap` and :func:`swing` together, with
    one sort per input: its ranks, its bins and its deciles all come from that sort.

    With ``groups`` (column indices, each column in exactly one group), each group is one
    row: the first-order index of its inputs taken together, ``Var(E[Y | X_G]) /
    Var(Y)``, read from joint bins (:func:`_joint_bins`). Inputs that depend on each
    other (a regime and the inputs it overrides, copula-correlated inputs) must be
    grouped for the rows to be a decomposition: their separate indices each count the
    variance they share, and summed past 100% (116% on the baseline). The groups being
    independent of each other, their indices sum to at most 1; what is left is the
    interactions between groups. A group of several inputs has no sign: its rank
    correlation is the value's with its joint bins' mean value (0 or more: how nearly the
    value is monotone in the group's effect), and its swing the mean value over the
    paths in the bottom and top decile of that bin mean (the group at its least and its
    most favourable).

    With ``of_ranks`` the indices are those of the output's ranks, ``Var(E[R | X]) /
    Var(R)`` with ``R`` the output's rank: for an output whose variance is infinite or
    held by a few paths (the exponential of a Student t), where the value's own variance
    shares are noise about 0. The swings are then the medians over each decile's paths,
    not the means (which a few paths would set).

    Returns
    -------
    (rho, estimate, lo, hi, low, high), each (k,), or one per group with ``groups``;
    equal to the three functions' results for single inputs (with ``rng`` in the state
    :func:`first_order_bootstrap` would be given).
    """
    n, k = inputs.shape
    m = _bins_for(n)
    y = np.asarray(output, dtype=float)
    ry = _standard_ranks(y)
    rho = np.full(k, math.nan)
    low = np.full(k, math.nan)
    high = np.full(k, math.nan)
    ids = np.empty((k, n), dtype=np.intp)
    for j in range(k):  # a loop over inputs, each vectorised over paths
        column = np.ascontiguousarray(inputs[:, j])
        order, start, srt = _runs(column)
        rho[j] = _correlate_ranks(_average_ranks(order, start), ry)
        ids[j, order] = _bin_of(start, m, n)
        low[j], high[j] = _swing_one(column, srt, y, median=of_ranks)
    bins = m
    if groups is not None:
        rows = [list(g) for g in groups]
        joint = np.empty((len(rows), n), dtype=np.intp)
        for g, members in enumerate(rows):
            joint[g] = ids[members[0]] if len(members) == 1 else _joint_bins(inputs[:, members], m)
        bins = max(m, int(joint.max()) + 1) if n else m
        for g, members in enumerate(rows):
            if len(members) > 1:
                fitted = _bin_means(joint[g], y)
                order, start, srt = _runs(fitted)
                rho[members[0]] = _correlate_ranks(_average_ranks(order, start), ry)
                low[members[0]], high[members[0]] = _swing_one(fitted, srt, y, median=of_ranks)
        rho = np.array([rho[g[0]] for g in rows])
        low = np.array([low[g[0]] for g in rows])
        high = np.array([high[g[0]] for g in rows])
        ids = joint
    target = ry if of_ranks else y
    est = _first_order_binned(ids, target, bins)
    if n < 2 or reps < 2:
        nan = np.full(len(est), math.nan)
        return rho, est, nan, nan, low, high
    se = _bootstrap_se(ids, target, bins, rng=rng, reps=reps)
    return rho, est, est - Z95 * se, est + Z95 * se, low, high


def _joint_bins(columns: FloatArray, bins: int) -> npt.NDArray[np.intp]:
    """Each path's cell of the joint rank bins of ``columns`` (n, d), numbered densely.

    Each input gets ``bins^(1/d)`` equiprobable bins (at least 2; a discrete input, such
    as a regime's index, a bin per value), so the cells number at most about ``bins``, as
    many as one input alone gets: the estimator's noise correction counts the cells in
    use, and dependent inputs leave many of the product's cells empty.
    """
    n, d = columns.shape
    per = max(2, round(bins ** (1.0 / d)))
    code = np.zeros(n, dtype=np.int64)
    for j in range(d):
        order, start, _ = _runs(np.ascontiguousarray(columns[:, j]))
        ids = np.empty(n, dtype=np.int64)
        ids[order] = _bin_of(start, per, n)
        code = code * per + ids
    return np.unique(code, return_inverse=True)[1].astype(np.intp).reshape(n)


def _bin_means(ids: npt.NDArray[np.intp], y: FloatArray) -> FloatArray:
    """Each path's bin's mean of ``y``: the estimate of ``E[Y | bin]`` on each path."""
    count = np.bincount(ids)
    sums = np.bincount(ids, weights=y)
    means = sums / np.where(count > 0, count, 1)
    out: FloatArray = means[ids]
    return out


def _swing_one(
    column: FloatArray, srt: FloatArray, y: FloatArray, *, median: bool = False
) -> tuple[float, float]:
    """:func:`swing` for one input, given its sorted values; the medians with ``median``."""
    n = srt.size
    if n == 0 or srt[0] == srt[-1]:
        return math.nan, math.nan
    if np.count_nonzero(np.diff(srt)) < 10:  # discrete: condition on the end values
        a, b = srt[0], srt[-1]
    else:
        a, b = srt[(n - 1) // 10], srt[n - 1 - (n - 1) // 10]
    at = np.median if median else np.mean
    return float(at(y[column <= a])), float(at(y[column >= b]))


def swing(inputs: FloatArray, output: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Mean ``output`` over the paths in each input's bottom and top decile (by rank).

    An input with at most 10 distinct values (a 0/1 event indicator) has no deciles: the
    means are then over the paths at its smallest and at its largest value (without an
    event / with one).

    Returns
    -------
    (low, high), each (k,); NaN for a constant input.
    """
    k = inputs.shape[1]
    y = np.asarray(output, dtype=float)
    lo = np.full(k, math.nan)
    hi = np.full(k, math.nan)
    for j in range(k):  # a loop over inputs, each vectorised over paths
        lo[j], hi[j] = _swing_one(inputs[:, j], np.sort(inputs[:, j]), y)
    return lo, hi

"""Uniforms per input from keyed streams: random, Latin hypercube or scrambled Sobol.

Every (block, input name) pair owns a random stream: ``SeedSequence(seed,
spawn_key=(block, *hash(name)))``. So the draws of an input depend only on the seed, the
block index and the input's name: never on the other inputs, the chunking or the worker
that runs the block. Blocks have the fixed size :data:`BLOCK_SIZE`; a short final block
takes the first rows of a full block's design, so the first N paths of a bigger run equal
an N-path run under every sampler.

Sampling is quantile-first: uniforms -> (Gaussian copula for correlated scalars) -> each
marginal's inverse CDF.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from scipy.special import ndtr, ndtri

from sim.distributions import Distribution
from sim.errors import ScenarioError
from sim.model.core import DIRICHLET, NORMAL, SCALAR, UNIFORM, InputSpec
from sim.scenario import SAMPLERS, Correlation
from sim.scenario.types import REGIME_INPUT

__all__ = ["BLOCK_SIZE", "Copula", "block_draws", "input_rng", "name_key"]

FloatArray = npt.NDArray[np.float64]

#: Paths per block. Part of the reproducibility contract: changing it changes results.
BLOCK_SIZE = 65_536
# Uniforms are clamped into the open interval before any inverse CDF.
_EPS = 2.0**-53


def name_key(name: str) -> tuple[int, int]:
    """A stable 64-bit hash of an input's name as two 32-bit words (blake2b, not ``hash``)."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest[:4], "little"), int.from_bytes(digest[4:], "little")


def input_rng(seed: int, block: int, name: str) -> np.random.Generator:
    """The generator of input ``name`` in block ``block`` of a run with ``seed``."""
    seq = np.random.SeedSequence(seed, spawn_key=(block, *name_key(name)))
    return np.random.Generator(np.random.SFC64(seq))


def uniforms(n: int, dim: int, *, rng: np.random.Generator, sampler: str) -> FloatArray:
    """Uniforms in the open interval (0, 1), shaped (dim, n): a row per dimension.

    Each dimension's row is laid out for a whole block of :data:`BLOCK_SIZE` paths and
    cut to its first ``n``, so a short final block is the prefix of a full one.
    ``lhs`` stratifies each dimension; ``sobol`` makes the input's dimensions a scrambled
    Sobol design.
    """
    if sampler == "random":
        # A scalar's row is the stream's first n values; further rows start a block apart.
        u = rng.random(n) if dim == 1 else rng.random((dim, BLOCK_SIZE))[:, :n]
        # random() is in [0, 1 - 2^-53]: only the lower end needs moving off 0.
        u = u.reshape(dim, n)
        return np.maximum(u, _EPS, out=u)
    if sampler == "lhs":
        # One stratum per path of the block in each dimension, randomly paired.
        strata = rng.permuted(np.tile(np.arange(BLOCK_SIZE), (dim, 1)), axis=1)
        u = (strata[:, :n] + rng.random((dim, BLOCK_SIZE))[:, :n]) / BLOCK_SIZE
    elif sampler == "sobol":
        # Keyed streams rule out one joint design over all inputs: each input's own
        # dimensions form a scrambled Sobol design, and the rows are randomly permuted so
        # that designs of different inputs pair up independently (scrambled 1-d Sobol
        # sequences of different inputs are otherwise strongly dependent, point by point).
        from scipy.stats import qmc  # slow to import: only Sobol needs it

        engine = qmc.Sobol(dim, scramble=True, rng=rng)
        design = engine.random_base2(int(math.log2(BLOCK_SIZE)))
        u = design[rng.permutation(BLOCK_SIZE)[:n]].T
    else:
        raise ScenarioError(
            f"unknown sampler {sampler!r}; expected one of {SAMPLERS}", path="simulation.sampler"
        )
    return np.clip(u, _EPS, 1.0 - _EPS)


def normals(n: int, dim: int, *, rng: np.random.Generator, sampler: str) -> FloatArray:
    """Standard normals shaped (dim, n), prefix-stable like :func:`uniforms`.

    The random sampler draws them directly (faster than an inverse CDF); the stratified
    samplers go through the inverse CDF of their uniforms.
    """
    if sampler == "random":
        return rng.standard_normal((dim, BLOCK_SIZE))[:, :n]
    z: FloatArray = ndtri(uniforms(n, dim, rng=rng, sampler=sampler))
    return z


@dataclass(frozen=True, slots=True, eq=False)
class Copula:
    """A Gaussian copula realising Spearman rank correlations between scalar inputs.

    Spearman's rho maps to the normal correlation ``2 sin(pi rho / 6)``, which makes the
    copula reproduce the requested rank correlations (in expectation). Each connected
    group of correlated inputs is factored on its own, with the symmetric square root of
    its correlation matrix: every correlated normal stays as close as it can to the input's
    own normal, and a correlation added between other inputs changes none of these draws.
    That keeps common random numbers working across scenarios that differ in their
    correlations.
    """

    groups: tuple[tuple[tuple[str, ...], FloatArray], ...]

    @classmethod
    def from_correlations(cls, correlations: Sequence[Correlation]) -> Copula | None:
        if not correlations:
            return None
        groups = []
        for names in _connected(correlations):
            index = {n: i for i, n in enumerate(names)}
            pearson = np.eye(len(names))
            for c in correlations:
                if c.between[0] in index:
                    i, j = index[c.between[0]], index[c.between[1]]
                    pearson[i, j] = pearson[j, i] = 2.0 * math.sin(math.pi * c.spearman / 6.0)
            # The Spearman matrix was checked PSD when loading; the sine map can leave it
            # just semi-definite, so clip the eigenvalues before taking the root.
            values, vectors = np.linalg.eigh(pearson)
            root = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
            # Renormalise rows so each marginal stays standard normal.
            root /= np.linalg.norm(root, axis=1, keepdims=True)
            root.setflags(write=False)
            groups.append((names, root))
        return cls(tuple(groups))

    def apply(self, u: Mapping[str, FloatArray]) -> dict[str, FloatArray]:
        """Correlate the uniforms of the copula's inputs; each stays uniform marginally."""
        out: dict[str, FloatArray] = {}
        for names, root in self.groups:
            z = np.stack([ndtri(u[name]) for name in names])
            correlated = np.clip(ndtr(root @ z), _EPS, 1.0 - _EPS)
            out.update({name: correlated[i] for i, name in enumerate(names)})
        return out


def _connected(correlations: Sequence[Correlation]) -> list[tuple[str, ...]]:
    """The groups of inputs linked by correlations, each sorted by name.

    Groups come in the order of their first name (connected components are labelled in
    the order of their first node).
    """
    names = sorted({n for c in correlations for n in c.between})
    index = {n: i for i, n in enumerate(names)}
    rows = [index[c.between[0]] for c in correlations]
    cols = [index[c.between[1]] for c in correlations]
    graph = coo_array((np.ones(len(rows)), (rows, cols)), shape=(len(names), len(names)))
    count, labels = connected_components(graph, directed=False)
    return [tuple(names[i] for i in np.flatnonzero(labels == g)) for g in range(count)]


def block_draws(
    specs: Sequence[InputSpec],
    marginals: Mapping[str, Distribution],
    *,
    seed: int,
    block: int,
    n: int,
    sampler: str,
    copula: Copula | None,
    overrides: Mapping[str, Sequence[Distribution | None]] | None = None,
) -> dict[str, FloatArray]:
    """All draws of one block, ready for :func:`sim.model.core.evaluate`.

    Parameters
    ----------
    specs : the model's inputs.
    marginals : distribution of each scalar input, by name.
    seed, block : key the streams.
    n : paths in this block (``<= BLOCK_SIZE``).
    sampler : ``"random"``, ``"lhs"`` or ``"sobol"``.
    copula : correlates scalar inputs, or ``None``.
    overrides : per scalar input a regime overrides, its distribution in each regime
        (``None``: the base marginal); the regimes are read from the ``"regime"`` draw.
        Each regime's version reads the same uniform as the base input, so the paths of
        other regimes, and every other input, draw exactly what they draw without it.

    Returns
    -------
    dict of name -> array: scalars (n,), noise and events (dim, n), shares (dim, n).
    """
    overrides = overrides or {}
    u_scalar: dict[str, FloatArray] = {}
    out: dict[str, FloatArray] = {}
    for spec in specs:
        if spec.kind == SCALAR:
            dist = marginals[spec.name]
            if dist.is_fixed and spec.name not in overrides:
                # A read-only view with stride 0: a constant costs no memory or time.
                out[spec.name] = np.broadcast_to(dist.ppf(np.array([0.5]))[0], (n,))
            else:
                rng = input_rng(seed, block, spec.name)
                u_scalar[spec.name] = uniforms(n, 1, rng=rng, sampler=sampler)[0]
        elif spec.kind == NORMAL:
            rng = input_rng(seed, block, spec.name)
            out[spec.name] = normals(n, spec.dim, rng=rng, sampler=sampler)
        elif spec.kind == UNIFORM:
            rng = input_rng(seed, block, spec.name)
            out[spec.name] = uniforms(n, spec.dim, rng=rng, sampler=sampler)
        elif spec.kind == DIRICHLET:
            out[spec.name] = _dirichlet(input_rng(seed, block, spec.name), spec.alpha, n)
        else:  # pragma: no cover - InputSpec kinds are a closed set
            raise AssertionError(spec.kind)
    if copula is not None:
        u_scalar.update(copula.apply(u_scalar))
    for name, u in u_scalar.items():
        out[name] = marginals[name].ppf(u)
    if overrides:
        regime = out[REGIME_INPUT]
        for name, by_regime in overrides.items():
            u = u_scalar[name]
            for k, version in enumerate(by_regime):
                if version is not None:
                    on = regime == k
                    out[name][on] = version.ppf(u[on])
    return out


def _dirichlet(rng: np.random.Generator, alpha: tuple[float, ...], n: int) -> FloatArray:
    """Dirichlet shares shaped (components, n); zero-concentration components stay zero.

    Drawn with gamma variates (not quantile-first) under every sampler: the shares are a
    vector input that no copula or stratification touches. Each component's row covers a
    whole block, so a short final block is the prefix of a full one.
    """
    a = np.asarray(alpha)
    live = np.flatnonzero(a > 0)
    # Row by row with a scalar shape: about a quarter faster than one broadcast call.
    gammas = np.empty((len(live), n))
    for row, shape in enumerate(a[live]):
        gammas[row] = rng.standard_gamma(shape, size=BLOCK_SIZE)[:n]
    gammas /= gammas.sum(axis=0)
    if len(live) == len(a):
        return gammas
    shares = np.zeros((len(a), n))
    shares[live] = gammas
    return shares

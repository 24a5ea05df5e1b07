"""Exception types. Every mistake a user can make is a :class:`SimError`."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class SimError(Exception):
    """Base class for errors the command line reports as one line and exit code 2."""


class ScenarioError(SimError):
    """A scenario file (or a value in it) is invalid.

    Parameters
    ----------
    message : str
        What is wrong and what was expected.
    path : str, optional
        Dotted key path inside the scenario, e.g. ``"segments.talkie.growth"``.
    file : str, optional
        The scenario file the key came from.
    """

    def __init__(self, message: str, *, path: str = "", file: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.file = file

    def with_file(self, file: str) -> ScenarioError:
        """Return a copy that names ``file`` (kept if one is already set)."""
        return type(self)(self.message, path=self.path, file=self.file or file)

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.path) if p]
        return ": ".join([*parts, self.message])


class InfeasibleDistribution(ScenarioError):
    """Parameters that describe no valid distribution (e.g. a non-monotone metalog)."""

    @classmethod
    def beyond_double_precision(cls, path: str) -> InfeasibleDistribution:
        """Parameters that pass every check but overflow double precision when the law is
        built or tabulated (sigma = 1e200, a mixture reaching 1.7e308): one message for
        the loader and the engine, naming the key."""
        # Not the arithmetic's own exception (an IndexError deep in a quantile table): it
        # says nothing to the scenario's author, the key and the remedy do.
        return cls(
            "parameters beyond what double precision can compute; use smaller or less "
            "extreme values",
            path=path,
        )


def unknown_key_message(key: str, allowed: Iterable[str], *, what: str = "key") -> str:
    """The message for a name that is not one of ``allowed``, with a close match if any.

    >>> unknown_key_message("growht", ["growth", "fade"])
    "unknown key 'growht'; did you mean 'growth'?"
    """
    choices = sorted(allowed)
    close = difflib.get_close_matches(key, choices, n=1, cutoff=0.6)
    if close:
        return f"unknown {what} {key!r}; did you mean {close[0]!r}?"
    return f"unknown {what} {key!r}; expected one of: {', '.join(choices)}"

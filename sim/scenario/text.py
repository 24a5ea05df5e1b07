"""A scenario from TOML text rather than a file: :func:`loads_scenario`."""

from __future__ import annotations

from pathlib import Path

from sim.errors import ScenarioError
from sim.scenario.files import _origin, _own_name, _read_chain, _resolve
from sim.scenario.parse import build_scenario
from sim.scenario.types import Scenario

__all__ = ["TEXT_SOURCE", "loads_scenario"]

#: How a scenario read from text is named in messages (it has no file).
TEXT_SOURCE = "<text>"


def loads_scenario(text: str, base_dir: str | Path | None = None) -> Scenario:
    """Read, resolve (``extends``) and validate a scenario from its TOML text.

    The same checks as :func:`load_scenario`; messages name the text ``<text>``.

    Parameters
    ----------
    text : str
        The TOML of a scenario file.
    base_dir : str or Path, optional
        The folder that an ``extends`` in the text is relative to (a file's own folder,
        for :func:`load_scenario`). Without it, ``extends`` is refused.

    Returns
    -------
    Scenario
        Named by ``[scenario] name``, else ``"scenario"``; its ``source`` is None.

    Raises
    ------
    ScenarioError
        Anything wrong with the text, naming the key path (and the base file that wrote
        it, for a mistake inherited through ``extends``).

    Examples
    --------
    >>> scenario = loads_scenario('''
    ... [scenario]
    ... name = "two-lines"
    ... base_year = 2025
    ... horizon = 2
    ... [[segments]]
    ... name = "api"
    ... revenue = "50M"
    ... growth = { dist = "triangular", min = 0.1, mode = 0.4, max = 0.9 }
    ... regions = { world = 1.0 }
    ... [valuation]
    ... year = 2026
    ... multiple = 10
    ... ''')
    >>> scenario.name, [s.name for s in scenario.segments], scenario.simulation.paths
    ('two-lines', ['api'], 200000)
    """
    if not isinstance(text, str):
        raise TypeError(f"loads_scenario: expected TOML text (str), got {type(text).__name__}")
    label = Path(TEXT_SOURCE)
    chain = _read_chain(label, text, None if base_dir is None else Path(base_dir))
    raw = _resolve(chain)
    # comparables.file is relative to the file that names it: a base file's folder, or
    # base_dir where the text itself names it.
    origin = _origin("comparables.file", chain)
    given = None if base_dir is None else Path(base_dir)
    peers_dir = origin.parent if origin != label else given
    try:
        return build_scenario(
            raw,
            source=None,
            own_name=_own_name(chain[0][1], Path("scenario.toml")),
            peers_dir=peers_dir,
        )
    except ScenarioError as err:
        raise err.with_file(str(_origin(err.path, chain))) from None

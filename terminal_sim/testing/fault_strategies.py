"""Hypothesis strategies for what goes wrong: crash points and faults.

Part of :mod:`terminal_sim.testing.strategies` (import from there); the table of all
strategies is in its docstring.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

from terminal_sim.core.profiles import PROFILES
from terminal_sim.errors import ConfigurationError
from terminal_sim.scenario.loader import FaultSpec
from terminal_sim.testing.customer_strategies import (
    DEFAULT_HORIZON_S,
    SearchStrategy,
    currencies,
)

if TYPE_CHECKING:
    from terminal_sim.plugins.faults import Param

__all__ = [
    "ParamStrategy",
    "crash_points",
    "fault_names",
    "fault_params",
    "fault_schedules",
    "fault_specs",
    "known_crash_points",
    "register_fault_params",
    "unregister_fault_params",
]


# -- crash points ------------------------------------------------------------------------


def _check_profile(profile: str) -> None:
    if profile not in PROFILES:
        raise ConfigurationError(
            f"unknown profile {profile!r}; choose one of: {', '.join(PROFILES)}")


@functools.cache
def known_crash_points(profile: str = "naive") -> tuple[str, ...]:
    """Every crash point a reference day of ``profile`` announces, in order of first use.

    The day: an approved sale, its void, a sale whose host reply is lost, a card that
    cannot be read, a reprint, a pulled plug and the boot after it. ``{flow}/during:print``
    is added for every flow that prints (a cut inside the print job).
    """
    _check_profile(profile)
    from terminal_sim.sim.session import Session  # the simulator is heavy: only when asked

    session = Session(profile=profile, seed=0)
    try:
        session.sale(1250)
        session.settle()
        session.void()
        session.settle()
        session.inject("link-drop-reply", limit=1)
        session.sale(1300)
        session.settle()
        session.inject("torn-card", limit=1)
        session.sale(1400)
        session.settle()
        session.reprint()
        session.settle()
        session.pull_plug()
        session.plug_in()
        session.settle()
        points: list[str] = []
        for record in session.trace_since(0):
            point = record.get("crash_point")
            if record.get("kind") in ("event", "effect") and point and point not in points:
                points.append(point)
                if point.endswith("/after:print"):
                    points.append(point.replace("/after:print", "/during:print"))
    finally:
        session.close()
    return tuple(points)


def crash_points(profile: str = "naive", *, flows: Iterable[str] | None = None
                 ) -> SearchStrategy[str]:
    """A crash point of ``profile`` (optionally only of ``flows``: ``("sale", "void")``)."""
    _check_profile(profile)
    wanted = set(flows) if flows is not None else None

    def build() -> SearchStrategy[str]:
        points = [p for p in known_crash_points(profile)
                  if wanted is None or p.split("/", 1)[0] in wanted]
        if not points:
            raise ConfigurationError(f"profile {profile!r} has no crash point in flows "
                                     f"{sorted(wanted or ())}")
        return st.sampled_from(points)

    # deferred: the reference day runs when the strategy is first drawn from, not when
    # a test module that builds the strategy is imported
    return st.deferred(build)


# -- faults ------------------------------------------------------------------------------


ParamStrategy = SearchStrategy[dict[str, Any]]
_REGISTERED: dict[str, Callable[[], ParamStrategy]] = {}
_MTIS = ("0200", "0210", "0400", "0410", "0420", "0430")


def register_fault_params(name: str, strategy: ParamStrategy | Callable[[], ParamStrategy]
                          ) -> None:
    """Teach :func:`fault_specs` how to draw the parameters of fault ``name``.

    ``strategy`` draws a dict of parameters (without the trigger ones: ``limit``,
    ``nth``, ``probability``, ``from``, ``until`` are added by :func:`fault_specs`), or is
    a callable returning such a strategy. Needed for a fault whose parameters cannot be
    drawn from its ``params`` table alone (a required parameter, two exclusive ones).
    """
    from terminal_sim.plugins.registry import fault_class

    fault_class(name)  # an unknown name fails here, with the list of known ones
    if isinstance(strategy, st.SearchStrategy):
        _REGISTERED[name] = lambda: strategy
    elif callable(strategy):
        _REGISTERED[name] = strategy
    else:
        raise ConfigurationError(f"register_fault_params({name!r}, ...): give a strategy of "
                                 f"parameter dicts, got {strategy!r}")


def unregister_fault_params(name: str) -> None:
    """Forget what :func:`register_fault_params` taught for ``name`` (no error if nothing)."""
    _REGISTERED.pop(name, None)


def _generic_param(name: str, param: Param, horizon_s: int) -> SearchStrategy[Any] | None:
    """A strategy for one parameter from its table row, or None to leave it at default."""
    kinds = param.kind if isinstance(param.kind, tuple) else (param.kind,)
    default = param.default
    if param.choices:
        return st.sampled_from(param.choices)
    if name in ("time", "from", "until") and int in kinds:
        return st.integers(0, horizon_s)
    if name == "message":
        return st.sampled_from(_MTIS)
    if name == "currency":
        return currencies()
    if bool in kinds:
        return st.booleans()
    if int in kinds:
        if default is None:
            return st.integers(0, 1_000)
        if default < 0:
            return st.integers(default, -default)
        return st.integers(0, max(10, default * 2))
    if float in kinds:
        value = float(default if default is not None else 0.0)
        if 0.0 <= value <= 1.0:
            return st.floats(0.0, 1.0)
        return st.floats(value - abs(value) - 10.0, value + abs(value) + 10.0)
    return None  # free text, lists (terminals): the default is the only safe value


def _table_params(name: str, horizon_s: int) -> ParamStrategy:
    from terminal_sim.plugins.registry import fault_class

    optional = {}
    for key, param in fault_class(name).params.items():
        drawn = _generic_param(key, param, horizon_s)
        if drawn is not None:
            optional[key] = drawn
    return st.fixed_dictionaries({}, optional=optional)


def _builtin_params(name: str, horizon_s: int) -> ParamStrategy | None:
    """Hand-written strategies where a fault's table cannot say enough."""
    if name == "power-dip":
        common = {"down_s": st.integers(0, 300), "print_fraction": st.floats(0.0, 0.99)}
        # the crash points of both built-in profiles (robust has its intent write ...)
        points = st.one_of(crash_points("naive"), crash_points("robust"))
        at_point = st.fixed_dictionaries({"at": points}, optional=common)
        at_time = st.fixed_dictionaries({"time": st.integers(0, horizon_s)}, optional=common)
        return st.one_of(at_point, at_time)
    if name in ("clock-jump", "operator-reprint"):
        table = _table_params(name, horizon_s)
        return st.tuples(st.integers(0, horizon_s), table).map(
            lambda t: {**t[1], "time": t[0]})
    if name == "link-late-reply":
        return st.fixed_dictionaries({}, optional={"delay_ms": st.integers(0, 90_000),
                                                   "message": st.sampled_from(_MTIS)})
    return None


def fault_names(names: Iterable[str] | None = None) -> SearchStrategy[str]:
    """A registered fault name (all of them, or those of ``names``, checked)."""
    from terminal_sim.plugins.registry import known_fault_names

    known = known_fault_names()
    chosen = list(names) if names is not None else known
    unknown = [n for n in chosen if n not in known]
    if unknown:
        raise ConfigurationError(f"unknown fault {unknown[0]!r}; known: {', '.join(known)}")
    if not chosen:
        raise ConfigurationError("fault_names: no fault to choose from")
    return st.sampled_from(chosen)


def fault_params(name: str, *, horizon_s: int = DEFAULT_HORIZON_S) -> ParamStrategy:
    """The parameters of fault ``name`` (no trigger parameters), valid for it."""
    from terminal_sim.plugins.registry import fault_class

    cls = fault_class(name)
    if name in _REGISTERED:
        base = _REGISTERED[name]()
    else:
        builtin = _builtin_params(name, horizon_s)
        base = builtin if builtin is not None else _table_params(name, horizon_s)

    def valid(params: dict[str, Any]) -> bool:
        try:
            cls.validate(params)
        except ConfigurationError:
            return False
        return True

    return base.filter(valid)


def _trigger_params() -> ParamStrategy:
    return st.fixed_dictionaries({}, optional={
        "limit": st.integers(1, 3),
        "nth": st.integers(1, 5),
        "probability": st.sampled_from([1.0, 0.5, 0.1]),
    })


def fault_specs(names: Iterable[str] | None = None, *, trigger: bool = True,
                horizon_s: int = DEFAULT_HORIZON_S) -> SearchStrategy[FaultSpec]:
    """A :class:`FaultSpec` for a registered fault, parameters valid for it.

    With ``trigger`` (the default) it may also carry ``limit``, ``nth`` or
    ``probability``. Put it in a :class:`~terminal_sim.scenario.loader.Scenario`'s ``faults``
    or hand it to ``Session.inject(spec.name, **spec.params)``.
    """
    extra = _trigger_params() if trigger else st.just({})

    def spec_of(name: str) -> SearchStrategy[FaultSpec]:
        return st.builds(lambda params, more: FaultSpec(name, {**params, **more}, None),
                         fault_params(name, horizon_s=horizon_s), extra)

    return fault_names(names).flatmap(spec_of)


def fault_schedules(names: Iterable[str] | None = None, *, max_faults: int = 3,
                    horizon_s: int = DEFAULT_HORIZON_S) -> SearchStrategy[tuple[FaultSpec, ...]]:
    """Up to ``max_faults`` fault specs, each on for a window ``from``..``until`` (seconds
    after virtual time zero) inside ``horizon_s``."""
    if max_faults < 0:
        raise ConfigurationError(f"max_faults must be >= 0, got {max_faults}")

    def windowed(spec: FaultSpec) -> SearchStrategy[FaultSpec]:
        def place(window: Sequence[int]) -> FaultSpec:
            start, length = window
            return FaultSpec(spec.name, {**spec.params, "from": start,
                                         "until": min(horizon_s, start + length)}, None)

        return st.tuples(st.integers(0, horizon_s - 1), st.integers(1, horizon_s)).map(place)

    one = fault_specs(names, horizon_s=horizon_s).flatmap(windowed)
    return st.lists(one, max_size=max_faults).map(tuple)

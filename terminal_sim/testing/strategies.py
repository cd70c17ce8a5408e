"""Hypothesis strategies for the terminal's world: cards, money, customer steps, faults.

=============================  ==========================================================
strategy                       draws
=============================  ==========================================================
:func:`card_names`             a test-card name (``visa-approve``, ``visa-decline`` ...)
:func:`test_cards`             a :class:`~terminal_sim.base.cards.Card` from the test-card table
:func:`malformed_pans`         a card number no issuer would emit: Luhn check broken, too
                               short or long, not digits, empty
:func:`cards`                  test cards and (``malformed=True``) malformed ones
:func:`currencies`             an ISO 4217 alpha code the simulator knows
:func:`amounts`                :class:`~terminal_sim.base.money.Money` in minor units; choose
                               ``outcome="approve"`` or ``"decline"`` by the host's
                               amount-ending rules
:func:`sales`, :func:`voids`,  a customer or cashier step (:class:`Sale`, :class:`Void`,
:func:`refunds`                :class:`Refund`) with ``apply(terminal)``
:func:`crash_points`           a crash point of a profile (``sale/after:print``)
:func:`fault_names`            a fault name from the registry (third-party ones included)
:func:`fault_specs`            a :class:`~terminal_sim.scenario.loader.FaultSpec` whose parameters
                               the fault's own ``validate`` accepts
:func:`fault_schedules`        several fault specs, each switched on for a window of time
=============================  ==========================================================

Fault parameters are drawn from each fault's ``params`` table; the built-in faults whose
parameters need more than their table says (a power dip's crash point, a clock jump's
time) have hand-written strategies. A third-party fault with required parameters gets
one with :func:`register_fault_params`.

Crash points are not listed by hand: :func:`known_crash_points` plays one reference day
of the profile (sale, void, a lost host reply, an unreadable card, a reprint, a pulled
plug) and collects the crash points its trace announces, so new effects show up here
without anyone editing this module.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from hypothesis import strategies as st

from terminal_sim.acquirer.rules import DEFAULT_AMOUNT_ENDINGS
from terminal_sim.base.cards import TEST_CARDS, Card, luhn_valid
from terminal_sim.base.money import CURRENCIES, Money
from terminal_sim.core.profiles import PROFILES
from terminal_sim.errors import ConfigurationError
from terminal_sim.scenario.loader import FaultSpec

if TYPE_CHECKING:
    from terminal_sim.plugins.faults import Param

SearchStrategy = st.SearchStrategy

#: Amounts up to this many minor units (99 999.99 EUR) unless told otherwise.
MAX_AMOUNT_MINOR = 9_999_999
#: Fault windows are drawn inside the first hours of virtual time.
DEFAULT_HORIZON_S = 4 * 3600


# -- cards -------------------------------------------------------------------------------


def card_names(*, approving_only: bool = False) -> SearchStrategy[str]:
    """A name from the test-card table; shrinks toward ``visa-approve``."""
    names = [c.name for c in TEST_CARDS if not approving_only or c.response_code == "00"]
    return st.sampled_from(names)


def test_cards(*, approving_only: bool = False) -> SearchStrategy[Card]:
    """A :class:`Card` of the test-card table (its ``label`` is the table's name)."""
    return card_names(approving_only=approving_only).map(_card_of)


def _card_of(name: str) -> Card:
    known = next(c for c in TEST_CARDS if c.name == name)
    return Card(known.pan, label=known.name)


def _with_check_digit(body: str) -> str:
    """``body`` and the one check digit that makes it Luhn-valid."""
    return body + next(d for d in "0123456789" if luhn_valid(body + d))


def _broken_check_digit(pan: str) -> str:
    """A Luhn-valid ``pan`` with another last digit: exactly one check digit is right."""
    return pan[:-1] + str((int(pan[-1]) + 1) % 10)


def malformed_pans() -> SearchStrategy[str]:
    """A card number a real card would never carry.

    Each draw is one of: a 13-19 digit number whose Luhn check digit is wrong; a number
    too short (0-12 digits) or too long (20-40 digits) with a valid check digit, so only
    its length is wrong; 16 characters with one that is no ASCII digit (a space, a dash,
    a letter, ``*``, or an Arabic-Indic digit, which ``str.isdigit`` accepts).
    """
    bodies = st.text("0123456789", min_size=12, max_size=18).filter(lambda b: b[0] != "0")
    bad_check = bodies.map(_with_check_digit).map(_broken_check_digit)
    short = st.text("0123456789", min_size=0, max_size=12)
    long = st.text("0123456789", min_size=19, max_size=39).map(_with_check_digit)
    not_digits = st.tuples(st.text("0123456789", min_size=15, max_size=15),
                           st.integers(0, 15),
                           st.sampled_from(" -xX*?/\u0663")).map(
        lambda t: t[0][:t[1]] + t[2] + t[0][t[1]:])
    return st.one_of(bad_check, short, long, not_digits)


def malformed_cards() -> SearchStrategy[Card]:
    """A :class:`Card` carrying a :func:`malformed_pans` number (``label="malformed"``)."""
    return malformed_pans().map(lambda pan: Card(pan, label="malformed"))


def cards(*, malformed: bool = True) -> SearchStrategy[Card]:
    """Test cards, and with ``malformed`` (the default) cards no issuer would make."""
    if malformed:
        return st.one_of(test_cards(), malformed_cards())
    return test_cards()


# -- money -------------------------------------------------------------------------------


def currencies() -> SearchStrategy[str]:
    """An ISO 4217 alpha code of :data:`~terminal_sim.base.money.CURRENCIES` (EUR first)."""
    return st.sampled_from(sorted(CURRENCIES, key=lambda c: (c != "EUR", c)))


Outcome = Literal["any", "approve", "decline"]


def _minor_units(min_minor: int, max_minor: int, outcome: Outcome) -> SearchStrategy[int]:
    if outcome not in ("any", "approve", "decline"):
        raise ConfigurationError(f"outcome {outcome!r}: choose 'any', 'approve' or 'decline'")
    if not 0 <= min_minor <= max_minor:
        raise ConfigurationError(f"amounts: need 0 <= min_minor <= max_minor, got "
                                 f"{min_minor} and {max_minor}")
    minor = st.integers(min_minor, max_minor)
    declining = sorted(int(ending) for ending in DEFAULT_AMOUNT_ENDINGS)
    if outcome == "approve":
        return minor.filter(lambda m: m % 100 not in declining)
    if outcome == "decline":
        return st.builds(lambda hundreds, ending: hundreds * 100 + ending,
                         st.integers(min_minor // 100, max_minor // 100),
                         st.sampled_from(declining)).filter(
            lambda m: min_minor <= m <= max_minor)
    return minor


def _currency_codes(currency: str | SearchStrategy[str] | None) -> SearchStrategy[str]:
    if currency is None:
        return currencies()
    if isinstance(currency, str):
        if currency not in CURRENCIES:
            raise ConfigurationError(
                f"unknown currency {currency!r}; known: {', '.join(CURRENCIES)}")
        return st.just(currency)
    return currency


def amounts(currency: str | SearchStrategy[str] | None = None, *, min_minor: int = 1,
            max_minor: int = MAX_AMOUNT_MINOR, outcome: Outcome = "any"
            ) -> SearchStrategy[Money]:
    """:class:`Money` in minor units; ``outcome`` picks the host's verdict by ending.

    The mock acquirer declines amounts ending in 05, 51, 54, 91 and 96 (see
    :mod:`terminal_sim.acquirer.rules`): ``outcome="approve"`` avoids those endings,
    ``"decline"`` draws only them. ``currency``: a code, a strategy of codes, or None
    for any known currency.
    """
    return st.builds(Money, _minor_units(min_minor, max_minor, outcome),
                     _currency_codes(currency))


# -- customer and cashier steps ----------------------------------------------------------


class TerminalLike(Protocol):
    """The part of :class:`~terminal_sim.sim.session.Session` the steps drive."""

    def sale(self, amount_minor: int, currency: str = ..., card: str = ...) -> str: ...

    def void(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Sale:
    """A customer buys ``amount_minor`` with the test card ``card``."""

    amount_minor: int
    currency: str
    card: str

    def apply(self, terminal: TerminalLike) -> str:
        """Present it to ``terminal``; returns the sale id."""
        return terminal.sale(self.amount_minor, self.currency, self.card)


@dataclass(frozen=True, slots=True)
class Void:
    """The cashier voids the last approved sale."""

    def apply(self, terminal: TerminalLike) -> None:
        terminal.void()


@dataclass(frozen=True, slots=True)
class Refund:
    """The cashier refunds ``amount_minor`` to the test card ``card``."""

    amount_minor: int
    currency: str
    card: str

    def apply(self, terminal: Any) -> str:
        """Needs a terminal with ``refund(amount_minor, currency, card)``."""
        refund = getattr(terminal, "refund", None)
        if not callable(refund):
            raise ConfigurationError(
                f"{type(terminal).__name__} has no refund(amount_minor, currency, card); "
                "give a terminal that can refund, or draw only sales and voids")
        return str(refund(self.amount_minor, self.currency, self.card))


def sales(*, currency: str | SearchStrategy[str] | None = "EUR",
          outcome: Outcome = "any", max_minor: int = MAX_AMOUNT_MINOR,
          card: SearchStrategy[str] | None = None) -> SearchStrategy[Sale]:
    """A :class:`Sale`; by default in EUR, any test card, any verdict.

    ``outcome="approve"`` draws amounts and cards the host approves; ``"decline"``
    amounts it declines (whatever the card).
    """
    if card is None:
        card = card_names(approving_only=outcome == "approve")
    return st.builds(Sale, amount_minor=_minor_units(1, max_minor, outcome),
                     currency=_currency_codes(currency), card=card)


def voids() -> SearchStrategy[Void]:
    """A :class:`Void` (it names no sale: a terminal voids its last approved one)."""
    return st.just(Void())


def refunds(*, currency: str | SearchStrategy[str] | None = "EUR",
            max_minor: int = MAX_AMOUNT_MINOR) -> SearchStrategy[Refund]:
    """A :class:`Refund` of an amount the host approves, to a test card it approves."""
    return st.builds(Refund, amount_minor=_minor_units(1, max_minor, "approve"),
                     currency=_currency_codes(currency),
                     card=card_names(approving_only=True))


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


__all__ = [
    "Refund",
    "Sale",
    "Void",
    "amounts",
    "card_names",
    "cards",
    "crash_points",
    "currencies",
    "fault_names",
    "fault_params",
    "fault_schedules",
    "fault_specs",
    "known_crash_points",
    "malformed_cards",
    "malformed_pans",
    "refunds",
    "register_fault_params",
    "sales",
    "test_cards",
    "voids",
]

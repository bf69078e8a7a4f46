"""How every surface writes the figures of ``bot.services.figures``: one formatter per kind of number, one pair of
flag icons, and the words that name what was rated. Plain text, no Slack and no HTML: builders escape names."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from bot.services import figures
from bot.services.figures import GAP_SIGN, HEALTH_WEEKS, Comparison, Flag, HealthIndex, NpsFigure
from bot.services.pulse_models import DIMENSION_LABELS, Participation, Trend

_TENTH = Decimal("0.1")
NO_VALUE = "–"
MINUS = "−"
#: The one pair of flag icons (Unicode, so the HTML export shows the same as Slack).
FLAG_ICONS: dict[Flag, str] = {Flag.NONE: "", Flag.WATCH: "🔸", Flag.ACT: "⚠️"}
FLAG_WORDS: dict[Flag, str] = {Flag.NONE: "", Flag.WATCH: "watch", Flag.ACT: "act"}
ARROWS: dict[Trend, str] = {Trend.UP: "↑", Trend.DOWN: "↓", Trend.STEADY: "→", Trend.NONE: ""}
NOT_ENOUGH = "not enough data yet"
FLAG_LEGEND = f"gap = {GAP_SIGN}; {FLAG_ICONS[Flag.WATCH]} 1.0 or more, {FLAG_ICONS[Flag.ACT]} 1.5 or more"


def format_score(value: Decimal | None) -> str:
    """An average as computed (one decimal): ``3.8``; ``–`` when there is none. (Figures arrive rounded; the
    half-up quantize only keeps a stray value from being rounded half-even by ``format``.)"""
    return NO_VALUE if value is None else str(value.quantize(_TENTH, rounding=ROUND_HALF_UP))


def format_gap(value: Decimal | None, *, ascii_sign: bool = False) -> str:
    """A gap or a change with its sign: ``+1.6``, ``−1.6``, ``0.0``; ``ascii_sign`` writes ``-`` (for CSV)."""
    if value is None:
        return NO_VALUE
    if value == 0:
        return "0.0"
    sign = "+" if value > 0 else ("-" if ascii_sign else MINUS)
    return f"{sign}{format_score(abs(value))}"


def format_flag(value: Flag) -> str:
    """The icon after a flagged gap (with a leading space), or nothing."""
    icon = FLAG_ICONS[value]
    return f" {icon}" if icon else ""


def format_participation(p: Participation) -> str:
    """``3 of 5 (60%)``; ``0 of 0`` when nobody was asked."""
    if not p.asked:
        return f"{p.responded} of 0"
    percent = figures.round_half_up(Fraction(100 * p.responded, p.asked), Decimal(1))
    return f"{p.responded} of {p.asked} ({percent}%)"


def format_nps(n: NpsFigure) -> str:
    """``NPS +20 (5 answers: 2 promoters, 2 passives, 1 detractor)``, or why there is none."""
    if n.withheld:
        return "withheld (too few answers)"
    if n.score is None:
        return "no answers"
    sign = "+" if n.score > 0 else (MINUS if n.score < 0 else "")
    counts = ", ".join(
        _count(k, word) for k, word in ((n.promoters, "promoter"), (n.passives, "passive"), (n.detractors, "detractor"))
    )
    return f"NPS {sign}{abs(n.score)} ({_count(n.respondents, 'answer')}: {counts})"


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def rated(subject: str | None, dimension: str, client_org: str, provider_org: str) -> str:
    """What was rated: ``Globex's responsiveness`` (provider Globex), ``The relationship's trust``; an item that is
    not comparable says so."""
    label = DIMENSION_LABELS.get(dimension, dimension).lower()
    if subject == "provider":
        return f"{_possessive(provider_org)} {label}"
    if subject == "client":
        return f"{_possessive(client_org)} {label}"
    if subject == "relationship":
        return f"The relationship's {label}"
    return f"{DIMENSION_LABELS.get(dimension, dimension)} (earlier wording, not comparable)"


def comparison_figures(c: Comparison) -> str:
    """``client 2.2 · provider 3.8 · gap +1.6`` (withheld sides and missing gaps say so)."""
    parts = []
    for name, figure in (("client", c.client), ("provider", c.provider)):
        parts.append(f"{name} {'withheld' if figure.withheld else format_score(figure.average)}")
    if c.subject is not None:
        parts.append(f"gap {format_gap(c.gap)}{format_flag(c.flag)}")
    return " · ".join(parts)


def comparison_line(c: Comparison, client_org: str, provider_org: str) -> str:
    """``Globex's responsiveness: client 2.2 · provider 3.8 · gap +1.6``."""
    return f"{rated(c.subject, c.dimension, client_org, provider_org)}: {comparison_figures(c)}"


def trend_text(current: Decimal | None, previous: Decimal | None, trend: Trend) -> str:
    """``↑ +0.4 vs 3.4 the last time`` or ``not enough data yet`` (never a change from too little data)."""
    if current is None:
        return NO_VALUE
    if trend is Trend.NONE or previous is None:
        return NOT_ENOUGH
    delta = current - previous
    return f"{ARROWS[trend]} {format_gap(delta)} vs {format_score(previous)} the last time".replace("  ", " ")


def health_text(h: HealthIndex) -> str:
    """``3.9 (4 weeks, 8 of 8 dimensions) ↑ +0.2`` or what is missing."""
    if h.withheld:
        return "withheld (too few answers)"
    if h.value is None:
        return f"{NOT_ENOUGH} ({h.covered} of {h.dimensions} dimensions answered in {HEALTH_WEEKS} weeks)"
    text = f"{format_score(h.value)} ({HEALTH_WEEKS} weeks, {h.covered} of {h.dimensions} dimensions)"
    if h.previous is None:
        return f"{text}, trend: {NOT_ENOUGH}"
    return f"{text} {ARROWS[h.trend]} {format_gap(h.change)}"


def stored_score(value: object) -> str:
    """An average kept in a stored record (a JSON number, one decimal) as every surface writes it."""
    return format_score(Decimal(str(value))) if isinstance(value, int | float) else NO_VALUE


def stored_gap(value: object, *, signed: bool) -> str:
    """``gap −2.0, provider − client`` from a stored record; a record kept before gaps were signed keeps its
    unsigned ``a gap of 2.0``."""
    if not isinstance(value, int | float):
        return "no gap"
    if not signed:
        return f"a gap of {stored_score(value)}"
    return f"gap {format_gap(Decimal(str(value)))}, {GAP_SIGN}"


def stored_rated(subject: object, dimension: str, client_org: str, provider_org: str) -> str:
    """What a stored record is about: the subject and dimension rated (``Globex's responsiveness``); a record kept
    before subjects existed names only its dimension, as it did then."""
    if isinstance(subject, str):
        return rated(subject, dimension, client_org, provider_org)
    return DIMENSION_LABELS.get(dimension, dimension)

"""Number formatting shared by the human-readable renderers (text and markdown)."""

from __future__ import annotations

import math

from cohortlab.codes import Verdict

VERDICT_SYMBOLS = {
    Verdict.BETTER: "▲ better",
    Verdict.WORSE: "▼ worse",
    Verdict.INCONCLUSIVE: "○ inconclusive",
    Verdict.UNAVAILABLE: "– unavailable",
}
MINUS = "−"


def _signed(text: str, value: float, signed: bool) -> str:
    if value < 0:
        return MINUS + text
    return ("+" + text) if signed and value > 0 else text


def value(amount: float, unit: str, *, signed: bool = False) -> str:
    """A metric value: $12,345 for currency, 83.6% for percent, 3.2× for ratios, 24.5 days, 7.3 months;
    deltas get a sign."""
    if amount is None or not math.isfinite(amount):
        return "–"
    magnitude = abs(amount)
    if unit == "currency":
        text = f"${magnitude:,.0f}" if magnitude >= 100 else f"${magnitude:,.2f}"
    elif unit == "percent":
        text = f"{magnitude * 100:.1f}" + (" pp" if signed else "%")
    elif unit in ("days", "months"):
        text = f"{magnitude:.1f} {'d' if unit == 'days' else 'mo'}" if signed else f"{magnitude:.1f} {unit}"
    else:
        text = f"{magnitude:.2f}×"
    return _signed(text, amount, signed)


def relative(amount: float, signed: bool = True) -> str:
    if amount is None or not math.isfinite(amount):
        return "–"
    return _signed(f"{abs(amount) * 100:.1f}%", amount, signed)


def interval(bounds: tuple[float, float], unit: str | None) -> str:
    """[low, high] in the delta's unit (relative deltas when ``unit`` is None)."""
    parts = [relative(bound) if unit is None else value(bound, unit, signed=True) for bound in bounds]
    return f"[{parts[0]}, {parts[1]}]"


def p_value(p: float) -> str:
    if p is None or not math.isfinite(p):
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def number(amount: float, digits: int = 0) -> str:
    if amount is None or not math.isfinite(amount):
        return "–"
    return f"{amount:,.{digits}f}"


def share(amount: float) -> str:
    """A share as a percentage to a tenth, without a trailing .0: a declared effect (10%, 12.5%), a confidence
    level (95%, 99.3%)."""
    if amount is None or not math.isfinite(amount):
        return "–"
    return f"{amount * 100:.1f}".removesuffix(".0") + "%"


level = share  # a confidence level reads as any share

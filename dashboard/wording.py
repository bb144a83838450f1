"""How numbers are written: the UK–US comparison's figures, differences and verdicts, the same in
pages, embeds, images, decks and text alternatives.

Each function takes a comparison as plain data (:func:`analysis.serialise.comparison_dict`), the
form every output already has.
"""

from __future__ import annotations

from typing import Any

from analysis.statements import base_words


def signed(value: float, places: int = 1) -> str:
    """+1.5, -0.2, 0.0: a sign always, never "-0.0"."""
    value = value + 0.0  # -0.0 is written 0.0
    return f"{value:.{places}f}" if value == 0 else f"{value:+.{places}f}"


def us_figure(row: dict[str, Any]) -> str:
    """The US figure as published, with the range an approximate one is read as."""
    if row.get("range"):
        low, high = row["range"]
        return f"{row['display']} (approximate: read as {low:g}% to {high:g}%)"
    return row["display"]


def difference(row: dict[str, Any]) -> str | None:
    """UK minus US with its 95% interval: one decimal, or whole points and a range when the US
    figure is approximate. None when the UK figure is not shown."""
    if row["uk_percent"] is None:
        return None
    low, high = row["difference_ci95"]
    if row.get("difference_range"):
        a, b = row["difference_range"]
        return (f"{signed(a, 0)} to {signed(b, 0)} points, approximate (95% interval "
                f"{signed(low, 0)} to {signed(high, 0)})")
    return f"{signed(row['difference'])} points (95% interval {signed(low)} to {signed(high)})"


def verdict(row: dict[str, Any]) -> str:
    if row["significant"] is None:
        return "UK figure not shown (too few responses)"
    word = "Clear difference" if row["significant"] else "No clear difference"
    adjusted = row.get("p_adjusted")  # (frozen embeds made before it was published lack it)
    text = word if adjusted is None else f"{word} (Holm-adjusted p {_p(adjusted)})"
    if row["approximate"]:
        text += ", against an approximate US figure"
    if row.get("low_base"):
        text += "; low base"
    return text


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def base(n: int, everyone: bool, low_base: bool = False) -> str:
    """"Base: 2,901 who answered this question and question 2", marked when low."""
    return f"Base: {base_words(n, everyone)}" + (" (low base)" if low_base else "")

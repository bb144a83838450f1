"""The view in the URL's query string, and back: a copied link reopens exactly the same view."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

from analysis.views import Filter, InvalidFilter

FILTER_KEYS = ("role", "social_media")


def parse(search: str | None) -> dict[str, list[str]]:
    return parse_qs((search or "").lstrip("?"), keep_blank_values=False)


def filter_from_search(search: str | None) -> Filter:
    """The filter a query string names; whatever cannot be understood is left out."""
    params = parse(search)
    roles = params.get("role", [])
    social_media = (params.get("social_media") or [None])[0]
    try:
        return Filter.parse(roles, social_media)
    except InvalidFilter:
        known = [r for r in roles if _role_ok(r)]
        return Filter.parse(known, social_media if social_media in ("yes", "no") else None)


def _role_ok(code: str) -> bool:
    try:
        Filter.parse([code])
    except InvalidFilter:
        return False
    return True


def search_for(view: Filter, search: str | None = None) -> str:
    """``search`` with its filter keys replaced by ``view``'s; other keys are kept as they are."""
    params = {k: v for k, v in parse(search).items() if k not in FILTER_KEYS}
    pairs: list[tuple[str, str]] = [("role", r) for r in view.roles]
    if view.social_media:
        pairs.append(("social_media", view.social_media))
    for key, values in params.items():
        pairs.extend((key, v) for v in values)
    encoded = urlencode(pairs)
    return f"?{encoded}" if encoded else ""


def value(search: str | None, key: str, default: str | None = None) -> str | None:
    return (parse(search).get(key) or [default])[0]


def with_value(search: str | None, key: str, new: str | None) -> str:
    params = parse(search)
    if new is None:
        params.pop(key, None)
    else:
        params[key] = [new]
    encoded = urlencode([(k, v) for k, vs in params.items() for v in vs])
    return f"?{encoded}" if encoded else ""

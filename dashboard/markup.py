"""Dash components written directly as the JSON the browser receives.

``markup.html.Div(children, className=...)`` takes the same arguments as ``dash.html.Div`` and
returns what Dash would send for it: ``{"props": {...}, "type": "Div", "namespace":
"dash_html_components"}``. The browser's renderer makes the same component of either.

Why: a page callback returns a few hundred components (the overview's eight chart cards come to
about 320). Constructing Dash's component objects and then turning each back into a dict took
about 15 of the 20 milliseconds of a new view at any store size; plain dicts take a tenth of a
millisecond, and orjson (plotly's JSON engine when it is installed) writes them without a
Python-level walk.

The arguments are still checked against the component's own properties, required ones included,
so a misspelt or missing property fails at once, as it does with Dash's classes. Use these
builders for what callbacks return; a page's static ``layout`` may use either.
"""

from __future__ import annotations

import re
from typing import Any

from dash import dcc as _dcc
from dash import html as _html

Markup = dict[str, Any]


class UnknownProperty(TypeError):
    """A property the component does not have (Dash raises a TypeError too)."""


def _properties(cls: type) -> tuple[frozenset[str], tuple[str, ...], frozenset[str]]:
    """A component's property names, the prefixes (``data-``, ``aria-``) under which it takes
    any property, and its required properties. Dash sets the first two per instance, so they
    are read from an empty one; the required ones are those its constructor asks for."""
    empty = cls.__new__(cls)
    required: list[str] = []
    while True:
        try:
            cls.__init__(empty, **dict.fromkeys(required))
            break
        except TypeError as error:
            missing = re.search(r"Required argument `(.+?)`", str(error))
            if missing is None or missing.group(1) in required:
                raise
            required.append(missing.group(1))
    return (frozenset(empty._prop_names), tuple(empty._valid_wildcard_attributes),
            frozenset(required))


class _Library:
    """``html.Div``, ``dcc.Graph``, ...: a builder for each component of one Dash library."""

    def __init__(self, library: Any) -> None:
        self._library = library

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        builder = _builder(getattr(self._library, name))
        setattr(self, name, builder)  # found without this method from now on
        return builder


def _builder(cls: type):
    namespace, type_ = cls._namespace, cls._type
    names, wildcards, required = _properties(cls)
    takes_children = "children" in names

    def build(*children: Any, **props: Any) -> Markup:
        if children:
            if len(children) > 1 or not takes_children:
                raise TypeError(f"{namespace}.{type_} takes its properties by name "
                                "(children alone may be given first)")
            props["children"] = children[0]
        elif takes_children:
            props.setdefault("children", None)  # as Dash sends it
        for key in props:
            if key not in names and not key.startswith(wildcards):
                raise UnknownProperty(f"{namespace}.{type_} has no property {key!r}")
        if required and not required <= props.keys():
            raise TypeError(f"{namespace}.{type_} requires {sorted(required - props.keys())}")
        return {"props": props, "type": type_, "namespace": namespace}

    build.__name__ = build.__qualname__ = type_
    library = cls.__module__.rsplit(".", 1)[0]
    build.__doc__ = f"The JSON of ``{library}.{type_}`` with these properties."
    return build


html = _Library(_html)
dcc = _Library(_dcc)

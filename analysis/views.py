"""Which groups the public may see: role groups, the pooled group, and filters over them.

The minimum cell rule: no public view may show the answers of a group smaller than
``min_cell_size``, directly or by adding and subtracting other views, or the same view at other
moments. A view is a filter (a set of role groups, and social-media use yes, no or either), and
everything it shows is a sum over "atoms": one role group with one answer to question 2. Public
views are computed from a release (:mod:`analysis.releases`), which adds to every atom, and to
those in it who answered, left blank or were not asked each question, nobody or at least the
minimum. So in every release every atom and each of those groups within it holds 0 or at least
the minimum, every view is a union of atoms, and no difference of views (or of releases) can
isolate fewer than the minimum. Which roles are pooled is the release's (:class:`Grouping`).

Those who left question 2 blank are one atom more, whatever their role (:mod:`analysis.releases`
keeps it to the same rule). A view of every role and everyone (no filter at all) counts them: it is
then a union of every atom, and "either" minus "yes" minus "no" is that atom. Any other view leaves
them out, since a role group or an answer to question 2 would split their atom: its figures are of
those who answered question 2. The role chart never counts them (it would split them by role).

:func:`question_safety` checks, per question, that every atom holds 0 or at least the minimum
answering it. A release made under this rule always passes; the check stays as a second line,
so that a store whose releases were made under a smaller minimum (the setting was raised later)
shows what it still may: a question that fails it is withheld from views that would single out
the small atoms, and only from those.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.cube import QUESTION_INDEX, Cube, code_index
from survey.questionnaire import BY_ID, NO_ANSWER, ROLE_CODES

POOLED = "pooled"
POOLED_LABEL = "Other roles, pooled"
SOCIAL_MEDIA_VALUES = ("yes", "no")
_ROLE = QUESTION_INDEX["role"]
_SM = QUESTION_INDEX["uses_social_media"]


class InvalidFilter(ValueError):
    """A filter naming a role or value that does not exist; the message says which."""


@dataclass(frozen=True)
class Filter:
    """A public view's selection. Empty ``roles`` means every role."""

    roles: tuple[str, ...] = ()
    social_media: str | None = None

    @classmethod
    def parse(cls, roles: list[str] | tuple[str, ...] | None = (),
              social_media: str | None = None) -> "Filter":
        """A filter from the URL's values, refusing what does not exist."""
        roles = roles or ()
        known = set(ROLE_CODES) | {POOLED}
        unknown = sorted(set(roles) - known)
        if unknown:
            raise InvalidFilter(f"unknown role code(s): {', '.join(unknown)}; "
                                f"known codes: {', '.join([*ROLE_CODES, POOLED])}")
        if social_media in ("", "all"):
            social_media = None
        if social_media is not None and social_media not in SOCIAL_MEDIA_VALUES:
            raise InvalidFilter(f"social_media must be yes or no, not {social_media!r}")
        ordered = tuple(code for code in (*ROLE_CODES, POOLED) if code in set(roles))
        return cls(ordered, social_media)


@dataclass(frozen=True)
class Grouping:
    """How roles are shown: each on its own, or pooled with the other small ones."""

    separate: tuple[str, ...]
    pooled: tuple[str, ...]
    """Role codes in the pooled group, "no answer" among them."""
    pooled_size: int
    social_media_filter: bool
    """Always true of a release's grouping (its atoms all keep the rule); kept so that a check
    on some other grouping can say otherwise."""
    sizes: dict[str, int]
    """Respondents per group (separate role codes and ``POOLED``) in the public population."""

    @property
    def groups(self) -> tuple[str, ...]:
        """The groups with anyone published in them (a role with nothing published yet has no
        figures to show)."""
        return tuple(g for g in (*self.separate, POOLED) if self.sizes.get(g, 0))

    def label(self, group: str) -> str:
        return POOLED_LABEL if group == POOLED else BY_ID["role"].label_of(group)

    def resolve(self, view: Filter) -> Filter:
        """The filter as the grouping can honour it: pooled roles become the pooled group."""
        groups = {POOLED if code in self.pooled else code for code in view.roles}
        social_media = view.social_media if self.social_media_filter else None
        return Filter(tuple(g for g in (*self.separate, POOLED) if g in groups), social_media)

    def role_codes(self, groups: tuple[str, ...]) -> tuple[str, ...]:
        codes: list[str] = []
        for group in groups:
            codes.extend(self.pooled if group == POOLED else (group,))
        return tuple(codes)


def public_mask(cube: Cube) -> np.ndarray:
    """Cells that public views may count: those who answered question 2."""
    return cube.cells[:, _SM] != code_index("uses_social_media", NO_ANSWER)


def grouping_for(cube: Cube, pooled: frozenset[str] | tuple[str, ...]) -> Grouping:
    """The role groups of a release: every role on its own but those ``pooled`` (and "no
    answer", always pooled), with each group's size among those who answered question 2."""
    pooled_codes = tuple(r for r in (*ROLE_CODES, NO_ANSWER) if r in set(pooled) | {NO_ANSWER})
    separate = tuple(r for r in ROLE_CODES if r not in pooled_codes)
    answered = public_mask(cube)
    by_role = np.bincount(cube.cells[answered, _ROLE], weights=cube.counts[answered],
                          minlength=len(BY_ID["role"].stored_codes)).astype(np.int64)
    sizes = {r: int(by_role[code_index("role", r)]) for r in separate}
    sizes[POOLED] = int(sum(by_role[code_index("role", r)] for r in pooled_codes))
    return Grouping(separate, pooled_codes, sizes[POOLED], True, sizes)


def counts_everyone(view: Filter) -> bool:
    """Whether a (resolved) view is of every role and everyone: the one view that may count
    those who left question 2 blank (see the module's docstring)."""
    return not view.roles and not view.social_media


def counts_blank_atom(view: Filter, safety: dict[str, "QuestionSafety"]) -> bool:
    """Whether a (resolved) view counts those who left question 2 blank: the view of no filter,
    when their atom keeps the minimum for every question shown (it always does in a release)."""
    return counts_everyone(view) and all(s.blank_atom for q, s in safety.items() if q != "role")


def view_mask(cube: Cube, grouping: Grouping, view: Filter, everyone: bool = False) -> np.ndarray:
    """Cells counted by a (resolved) view; ``everyone`` (for a view of no filter only) counts
    those who left question 2 blank as well."""
    if everyone and counts_everyone(view):
        return np.ones(len(cube.cells), dtype=bool)
    mask = public_mask(cube)
    if view.roles:
        mask &= _role_lookup(grouping.role_codes(view.roles))[cube.cells[:, _ROLE]]
    if view.social_media:
        mask &= cube.cells[:, _SM] == code_index("uses_social_media", view.social_media)
    return mask


def view_totals(cube: Cube, grouping: Grouping, view: Filter, everyone: bool = False) -> np.ndarray:
    """Responses per answer to every question among those a (resolved) view counts, laid out as
    the last axis of :attr:`analysis.cube.Cube.margins`: the same numbers as counting the cells
    of :func:`view_mask`, from a few hundred sums rather than every cell."""
    roles = _role_lookup(grouping.role_codes(view.roles)) if view.roles else slice(None)
    answers = np.ones(len(BY_ID["uses_social_media"].stored_codes), dtype=bool)
    if not (everyone and counts_everyone(view)):
        answers[code_index("uses_social_media", NO_ANSWER)] = False
    if view.social_media:
        answers[:] = False
        answers[code_index("uses_social_media", view.social_media)] = True
    return cube.margins[roles][:, answers].sum(axis=(0, 1))


def group_mask(cube: Cube, grouping: Grouping, group: str) -> np.ndarray:
    return _role_lookup(grouping.role_codes((group,)))[cube.cells[:, _ROLE]]


def _role_lookup(roles: tuple[str, ...]) -> np.ndarray:
    """True at the stored codes of ``roles``: indexed by the cells' role column, the cells of
    those roles (a table look-up, cheaper than ``np.isin`` for a handful of codes)."""
    lookup = np.zeros(len(BY_ID["role"].stored_codes), dtype=bool)
    lookup[[code_index("role", r) for r in roles]] = True
    return lookup


@dataclass(frozen=True)
class QuestionSafety:
    """Which views may show one question (see the module's docstring).

    A view without the social-media filter shows, for each of its groups, the group's answers
    summed over yes and no; a view with it shows the atoms of its groups. Every base shown is
    then a union of pieces each holding 0 or at least the minimum (the atoms of the groups in
    :attr:`split`, the other groups of :attr:`groups` whole), and so is every difference of
    bases."""

    by_social_media: bool
    """Every atom has 0 or at least the minimum answering: any social-media view may show it."""
    groups: frozenset[str]
    """Groups in which 0 or at least the minimum answered it (summed over yes and no)."""
    split: frozenset[str] | None = None
    """Groups both of whose atoms have 0 or at least the minimum answering: social-media views
    of these groups alone may show it (None: every group, as when ``by_social_media``)."""
    blank_atom: bool = True
    """Those who left question 2 blank have 0 or at least the minimum answering it: the view of
    no filter may count them."""

    def allows(self, view: Filter, grouping: Grouping) -> bool:
        groups = view.roles or grouping.groups
        if view.social_media and not self.by_social_media:
            if self.split is None or not all(g in self.split for g in groups):
                return False
        return all(g in self.groups for g in groups)


def question_safety(cube: Cube, grouping: Grouping, min_cell_size: int) -> dict[str, QuestionSafety]:
    """:class:`QuestionSafety` per question id.

    One pass per question: the cells' answered counts summed into a (group, question 2 answer)
    table, so the cost does not grow with the number of groups.
    """
    groups = (*grouping.separate, POOLED)  # a group with nobody published is fine: 0
    group_of_role = np.full(len(BY_ID["role"].stored_codes), -1)
    for index, group in enumerate(groups):
        for role in grouping.role_codes((group,)):
            group_of_role[code_index("role", role)] = index
    cell_group = group_of_role[cube.cells[:, _ROLE]]
    sm = cube.cells[:, _SM]
    cell_answer = np.full(len(sm), -1)
    for index, value in enumerate(SOCIAL_MEDIA_VALUES):
        cell_answer[sm == code_index("uses_social_media", value)] = index
    public = (cell_group >= 0) & (cell_answer >= 0)
    slot = (cell_group * 2 + cell_answer)[public]
    blank = sm == code_index("uses_social_media", NO_ANSWER)
    safety = {}
    for qid, column in QUESTION_INDEX.items():
        answered = cube.cells[public, column] < len(BY_ID[qid].codes)
        table = np.bincount(slot, weights=cube.counts[public] * answered,
                            minlength=2 * len(groups)).reshape(len(groups), 2)
        ok = (table == 0) | (table >= min_cell_size)
        by_group = table.sum(axis=1)
        fine = frozenset(g for g, n in zip(groups, by_group) if n == 0 or n >= min_cell_size)
        split = frozenset(g for g, atoms in zip(groups, ok) if atoms.all())
        in_blank_atom = int(cube.counts[blank & (cube.cells[:, column]
                                                 < len(BY_ID[qid].codes))].sum())
        if qid == "uses_social_media":  # the atom itself
            in_blank_atom = int(cube.counts[blank].sum())
        safety[qid] = QuestionSafety(bool(ok.all()), fine, split,
                                     in_blank_atom == 0 or in_blank_atom >= min_cell_size)
    return safety

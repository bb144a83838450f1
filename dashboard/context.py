"""What a page callback needs from the application, without importing the app object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from analysis.benchmark import Study, load_study
from analysis.summary import Summary, summarise
from analysis.views import Filter
from dashboard.live import LiveData, Snapshot
from survey.settings import Settings

EXTENSION = "survey_dashboard"


@dataclass(frozen=True)
class Services:
    settings: Settings
    live: LiveData
    ingest_limiter: Any


def services() -> Services:
    return current_app.extensions[EXTENSION]


@dataclass(frozen=True)
class View:
    """Everything a page shows for one filter: the snapshot, the settings and the summary."""

    snapshot: Snapshot
    settings: Settings
    summary: Summary
    study: Study

    @property
    def min_cell_size(self) -> int:
        return self.settings.min_cell_size


def current_view(view: Filter) -> View:
    current = services()
    snapshot = current.live.snapshot()
    minimum = current.settings.min_cell_size
    summary = summarise(snapshot.cube, snapshot.grouping, view, minimum, snapshot.safety)
    return View(snapshot, current.settings, summary, load_study())

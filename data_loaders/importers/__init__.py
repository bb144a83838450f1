"""Importing survey exports into the store: our template, SurveyMonkey (CSV, XLSX) and Google Forms.

Each file is first recognised from its header alone (:func:`detect`), so a command can refuse a
bad file before writing anything; then imported in the caller's transaction
(:func:`import_file`). Only the recognised columns are ever read into the store or the
quarantine: an export's personal data (IP addresses, e-mails, names, free text) is not.
"""

from data_loaders.importers.detect import Detected, detect
from data_loaders.importers.run import ImportSummary, header_lines, import_file, report_lines
from data_loaders.importers.sources import FileProblem

__all__ = ["Detected", "FileProblem", "ImportSummary", "detect", "header_lines", "import_file",
           "report_lines"]

"""Benchmarks of the survey dashboard: see docs/benchmarks.md for how to run them and the results.

Each script is run from the project's root as a module, e.g. ``python -m benchmarks.refresh``;
``--quick`` makes a small run that takes under a minute. Fixtures (stores, CSV exports) are kept
under ``benchmarks/.data/``, which git ignores.
"""

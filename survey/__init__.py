"""Shared vocabulary of the project: the questionnaire and the settings."""

"""What the survey's answers say: pure functions over counts, no web framework, no SQL."""

"""The survey store, its loaders and importers: all SQL of the project lives here."""

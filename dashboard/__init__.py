"""The web application: pages, charts and the public API. Built by :func:`dashboard.app.create_app`."""

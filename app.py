"""Entry point: ``python app.py`` for the development server, ``gunicorn app:server`` in production."""

from dashboard.app import create_app
from survey.settings import Settings

settings = Settings.from_env()
app = create_app(settings)
server = app.server

if __name__ == "__main__":
    print(f"Serving the survey dashboard on http://{settings.host}:{settings.port}/")
    app.run(host=settings.host, port=settings.port, debug=settings.debug)

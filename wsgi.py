"""WSGI entry point: `app = create_app()`."""

from api import create_app

app = create_app()

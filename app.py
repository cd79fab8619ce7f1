"""WSGI entry point: `flask --app app run` and `gunicorn -c gunicorn.conf.py app:app`."""

from multica import create_app

app = create_app()

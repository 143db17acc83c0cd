"""Serve one store over HTTP: a JSON API and a web page from the same queries.

``polystory serve --db news.db`` runs it; in Python::

    from polystory import Pipeline
    from polystory.serve import create_app, serve
    with Pipeline(db="news.db") as p:
        serve(p, port=8000)             # or: uvicorn with create_app(p)

Needs the ``serve`` extra (FastAPI, uvicorn): ``pip install 'polystory[serve]'``.
"""
from .app import create_app
from .server import BackgroundServer, serve

__all__ = ["create_app", "serve", "BackgroundServer"]

"""The built-in IMDB-like formats, one module each (each defines ``FORMAT``).

Every public module here is registered when the registry is first read; adding a built-in
format is adding a module. A user's format needs no module here: see
:func:`movie_rag.ingest.imdb.register_format`.
"""

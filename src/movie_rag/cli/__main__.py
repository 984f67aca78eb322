"""``python -m movie_rag.cli``: the same as the ``movie-rag`` console script."""

from movie_rag.cli import main

main()

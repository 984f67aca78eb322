"""``movie-rag publish``: log, register and alias the chain as an MLflow model."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from movie_rag.cli._app import (
    DebugOption,
    JsonOption,
    QuietOption,
    VerboseOption,
    WorkdirOption,
    _progress,
    _settings,
    _start,
    app,
    out,
)
from movie_rag.cli._errors import _fail, _reported_errors, _require, _require_for_chain


class Registry(StrEnum):
    """Where ``publish`` registers the model."""

    local = "local"
    databricks_uc = "databricks-uc"


@app.command(
    epilog="""
Examples:

    movie-rag publish
    movie-rag publish --serve --port 5001
    movie-rag publish --registry databricks-uc --name main.movie_rag.recommender
"""
)
def publish(
    registry: Annotated[
        str,
        typer.Option(
            "--registry",
            metavar="[local|databricks-uc]",
            autocompletion=lambda incomplete: [
                r.value for r in Registry if r.value.startswith(incomplete)
            ],
            help="local (sqlite under the workdir) or databricks-uc.",
        ),
    ] = Registry.local.value,
    name: Annotated[
        str,
        typer.Option(
            "--name", metavar="NAME", help="Registered model name (catalog.schema.model in UC)."
        ),
    ] = "movie_rag",
    alias: Annotated[
        str, typer.Option("--alias", metavar="ALIAS", help="Alias to point at it.")
    ] = "champion",
    force: Annotated[
        bool,
        typer.Option("--force", metavar="", help="Publish a new version even if nothing changed."),
    ] = False,
    serve: Annotated[
        bool, typer.Option("--serve", metavar="", help="Then serve it locally until Ctrl-C.")
    ] = False,
    port: Annotated[
        int,
        typer.Option(
            "--port", metavar="PORT", min=0, max=65535, help="Port for --serve (0: any free)."
        ),
    ] = 5000,
    workdir: WorkdirOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = 0,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Log the chain as an MLflow model, register it and point the alias at it (idempotent)."""
    _start(workdir, verbose=verbose, quiet=quiet, debug=debug)
    if registry not in {r.value for r in Registry}:
        raise _fail("--registry must be local or databricks-uc", as_json, "UsageError")
    with _reported_errors(as_json):
        settings = _settings(workdir)
        _require("mlflow")
        _require_for_chain(settings)
        if registry == Registry.databricks_uc:
            _require("databricks")
        from movie_rag.publish.publisher import ModelPublisher

        publisher = ModelPublisher(settings, registry=registry)  # type: ignore[arg-type]
        with _progress(not quiet) as progress:
            progress("publishing")
            version = publisher.publish(name, alias, force=force)
    alias_uri = f"models:/{version.name}@{alias}"
    if as_json:
        print(
            json.dumps(
                {
                    "registry": registry,
                    "tracking_uri": publisher.tracking_uri,
                    "alias_uri": alias_uri,
                    **version.model_dump(),
                }
            ),
            flush=True,
        )
    else:
        out.print(
            f"[bold]{version.name}[/] version {version.version} is {alias_uri} "
            f"([dim]{publisher.tracking_uri}[/])",
            highlight=False,
        )
    if serve:
        # Imported here: importing cli.serve at the top would register it before publish.
        from movie_rag.cli.serve import _serve_until_stopped

        _serve_until_stopped(publisher, alias_uri, port, "127.0.0.1", 1, as_json)

"""The one serving interface: deploy a registered version, read its status, tear it down.

Two siblings implement it: :class:`~movie_rag.publish.local_serving.LocalServing`
(``mlflow models serve`` on this machine) and
:class:`~movie_rag.publish.databricks.DatabricksServing` (a Model Serving endpoint). Both
answer with the same :class:`EndpointStatus`, so code that deploys does not care where.

Example:
    >>> from movie_rag.publish.serving import Serving
    >>> from movie_rag.publish.local_serving import LocalServing
    >>> issubclass(LocalServing, Serving)
    True
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel

__all__ = ["EndpointStatus", "Serving"]


class EndpointStatus(BaseModel):
    """What a serving endpoint is doing.

    Attributes:
        name: The endpoint.
        ready: Whether it answers queries (state READY).
        state: READY or NOT_READY.
        config_update: NOT_UPDATING, IN_PROGRESS, UPDATE_FAILED or UPDATE_CANCELED.
        served_entities: One dict per served entity, active ones first, then those of an
            update in progress (``pending`` True): ``name``, ``entity_name``,
            ``entity_version``, ``workload_size``, ``scale_to_zero_enabled``,
            ``deployment``, ``deployment_message``, ``environment_vars`` (names only).
        url: The invocation URL once the endpoint is READY.
        message: One readable line: state, what is served, and any update.
    """

    name: str
    ready: bool
    state: str
    config_update: str | None
    served_entities: list[dict[str, Any]]
    url: str | None
    message: str


@runtime_checkable
class Serving(Protocol):
    """Where a registered model version is served."""

    def deploy(
        self, endpoint_name: str, model_name: str, model_version: str, **options: Any
    ) -> EndpointStatus:
        """Serve ``model_name`` version ``model_version`` as ``endpoint_name``; wait until ready."""
        ...

    def status(self, endpoint_name: str) -> EndpointStatus:
        """The endpoint's current status."""
        ...

    def teardown(self, endpoint_name: str) -> None:
        """Stop serving ``endpoint_name``; one that does not exist is not an error."""
        ...

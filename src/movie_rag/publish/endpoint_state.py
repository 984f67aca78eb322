"""Reading a Databricks serving endpoint: is it ready, what does it serve, what is it doing.

Pure functions over databricks-sdk's ``ServingEndpointDetailed``: no request is made here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from movie_rag.publish.serving import EndpointStatus

if TYPE_CHECKING:
    from databricks.sdk.service.serving import ServedEntityOutput, ServingEndpointDetailed

    from movie_rag.publish.databricks_checks import InferenceTableConfig, ServedEntity

__all__ = [
    "FAILED_UPDATES",
    "active_entities",
    "config_update",
    "endpoint_status",
    "failure_message",
    "gateway_table",
    "is_ready",
    "serves",
    "table_matches",
]

#: Config updates that ended without the new config.
FAILED_UPDATES = frozenset({"UPDATE_FAILED", "UPDATE_CANCELED"})


def endpoint_status(ep: ServingEndpointDetailed, host: str) -> EndpointStatus:
    """The :class:`EndpointStatus` of ``ep`` on the workspace ``host``."""
    name = ep.name or ""
    ready = is_ready(ep)
    state = ep.state.ready.value if ep.state and ep.state.ready else "UNKNOWN"
    update = config_update(ep)
    active = [_entity_info(e, pending=False) for e in active_entities(ep)]
    pending = [
        _entity_info(e, pending=True)
        for e in (ep.pending_config.served_entities if ep.pending_config else None) or []
    ]
    url = None
    if ready:
        url = ep.endpoint_url or f"{host}/serving-endpoints/{name}/invocations"
    return EndpointStatus(
        name=name,
        ready=ready,
        state=state,
        config_update=update,
        served_entities=active + pending,
        url=url,
        message=_describe(name, state, update, active, pending, ep),
    )


def config_update(ep: ServingEndpointDetailed) -> str | None:
    """The endpoint's config update state, when it has one."""
    if ep.state is None or ep.state.config_update is None:
        return None
    return ep.state.config_update.value


def is_ready(ep: ServingEndpointDetailed) -> bool:
    """Whether the endpoint is READY."""
    return ep.state is not None and ep.state.ready is not None and ep.state.ready.value == "READY"


def active_entities(ep: ServingEndpointDetailed) -> Sequence[ServedEntityOutput]:
    """The served entities of the active config."""
    return (ep.config.served_entities if ep.config else None) or []


def serves(ep: ServingEndpointDetailed, entity: ServedEntity) -> bool:
    """Whether the active config serves ``entity`` alone with all the traffic."""
    served = active_entities(ep)
    if len(served) != 1 or not entity.matches(served[0]):
        return False
    traffic = ep.config.traffic_config if ep.config else None
    routes = (traffic.routes if traffic else None) or []
    if not routes:
        return True
    return (
        len(routes) == 1
        and routes[0].traffic_percentage == 100
        and entity.name
        in (
            routes[0].served_entity_name,
            routes[0].served_model_name,
        )
    )


def table_matches(ep: ServingEndpointDetailed, table: InferenceTableConfig) -> bool:
    """Whether the endpoint's AI Gateway inference table is as ``table`` asks."""
    gateway = ep.ai_gateway.inference_table_config if ep.ai_gateway else None
    on = gateway is not None and bool(gateway.enabled)
    if not table.enabled:
        return not on
    assert gateway is not None or not on
    return (
        on
        and gateway is not None
        and table.same_place(gateway.catalog_name, gateway.schema_name, gateway.table_name_prefix)
    )


def _entity_info(entity: ServedEntityOutput, *, pending: bool) -> dict[str, Any]:
    state = entity.state
    return {
        "name": entity.name,
        "entity_name": entity.entity_name,
        "entity_version": entity.entity_version,
        "workload_size": entity.workload_size,
        "scale_to_zero_enabled": bool(entity.scale_to_zero_enabled),
        "deployment": state.deployment.value if state and state.deployment else None,
        "deployment_message": (state.deployment_state_message if state else None) or "",
        "environment_vars": sorted(entity.environment_vars or {}),
        "pending": pending,
    }


def failure_message(ep: ServingEndpointDetailed) -> str:
    """Databricks' reason for a failed deployment."""
    for entity in (ep.pending_config.served_entities if ep.pending_config else None) or []:
        state = entity.state
        if state and state.deployment and state.deployment.value == "DEPLOYMENT_FAILED":
            return state.deployment_state_message or f"{entity.name} failed to deploy"
    return "Databricks reported no reason"


def _describe(
    name: str,
    state: str,
    update: str | None,
    active: list[dict[str, Any]],
    pending: list[dict[str, Any]],
    ep: ServingEndpointDetailed,
) -> str:
    parts = [f"{name}: {state}"]
    if active:
        parts.append("serving " + ", ".join(_entity_text(e) for e in active))
    target = ", ".join(f"{e['entity_name']} v{e['entity_version']}" for e in pending)
    if update == "IN_PROGRESS":
        progress = "; ".join(
            f"{e['deployment'] or 'PENDING'}"
            + (f" ({e['deployment_message']})" if e["deployment_message"] else "")
            for e in pending
        )
        parts.append(f"update IN_PROGRESS to {target or 'a new config'}: {progress or 'pending'}")
    elif update in FAILED_UPDATES:
        parts.append(f"last update {update} ({target or 'config'}): {failure_message(ep)}")
    elif update == "NOT_UPDATING":
        parts.append("no update in progress")
    return "; ".join(parts)


def _entity_text(entity: dict[str, Any]) -> str:
    scale = ", scale to zero" if entity["scale_to_zero_enabled"] else ""
    return (
        f"{entity['entity_name']} v{entity['entity_version']} "
        f"({entity['workload_size'] or 'custom concurrency'}{scale})"
    )


# -- inference tables ------------------------------------------------------------------------


def gateway_table(table: InferenceTableConfig) -> Any:
    """The AI Gateway inference table config of ``table``."""
    from databricks.sdk.service.serving import AiGatewayInferenceTableConfig

    if not table.enabled:
        return AiGatewayInferenceTableConfig(enabled=False)
    return AiGatewayInferenceTableConfig(
        catalog_name=table.catalog_name,
        schema_name=table.schema_name,
        table_name_prefix=table.table_name_prefix,
        enabled=True,
    )

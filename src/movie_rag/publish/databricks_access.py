"""Secrets, grants and identity on a Databricks workspace: the access side of serving.

:class:`WorkspaceAccess` is the part of
:class:`~movie_rag.publish.databricks.DatabricksServing` that writes secrets and permissions:
a secret scope for the values the served model needs, the grants of a
:class:`~movie_rag.publish.access.ServedModelAccess` (Unity Catalog privileges through the
grants API, CAN QUERY through the serving endpoint's permissions), who the caller is, and
whether the endpoints a model calls exist.
"""

from __future__ import annotations

import logging
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from pydantic import SecretStr

from movie_rag.publish.access import Grant, ServedModelAccess
from movie_rag.publish.databricks_checks import check_part, check_scope, check_secret, table_name
from movie_rag.publish.errors import ServingConfigError, ServingError

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.service.serving import ServingEndpointDetailed

__all__ = ["WorkspaceAccess"]

logger = logging.getLogger("movie_rag.publish.databricks")

T = TypeVar("T")

_APPLICATION_ID = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
# Endpoint permission levels that include querying.
_QUERYING = frozenset({"CAN_QUERY", "CAN_VIEW", "CAN_MANAGE"})


class WorkspaceAccess(ABC):
    """Secrets, grants and identity over the workspace plumbing a subclass supplies.

    :class:`~movie_rag.publish.databricks.DatabricksServing` is the one implementation: it
    owns the SDK client, the retried call and the translation of SDK errors, which the
    abstract members below name.
    """

    _timeout: float

    @property
    @abstractmethod
    def host(self) -> str:
        """The workspace URL."""

    @property
    @abstractmethod
    def _workspace(self) -> WorkspaceClient:
        """The authenticated SDK client."""

    @abstractmethod
    def _call(self, action: str, call: Callable[[], T], deadline: float) -> T:
        """``call()`` retried on transient errors until ``deadline``."""

    @abstractmethod
    def _translate(self, action: str, endpoint: str | None = None) -> AbstractContextManager[None]:
        """A context that turns SDK errors inside it into one-line ``ServingError``s."""

    @abstractmethod
    def _get(self, name: str, deadline: float) -> ServingEndpointDetailed | None:
        """The endpoint ``name``, or ``None`` when it does not exist."""

    def ensure_secret_scope(self, scope: str, secrets: dict[str, SecretStr]) -> dict[str, str]:
        """Create the secret scope if needed and store (overwrite) each secret in it.

        Secret values cannot be read back, so every secret is written on every call.

        Args:
            scope: Secret scope name (letters, digits, '-', '_', '.', '@'; at most 128).
            secrets: Environment variable name (also the secret key) to its value.

        Returns:
            ``{KEY: "{{secrets/<scope>/<KEY>}}"}``, ready to pass as ``environment_vars``.

        Raises:
            ServingConfigError: A name is invalid or a value is not a non-empty SecretStr.
            ServingError: Databricks refused to create the scope or store a secret.
        """
        check_scope(scope)
        for key, value in secrets.items():
            check_secret(key, value)
        deadline = time.monotonic() + self._timeout
        secrets_api = self._workspace.secrets
        with self._translate(f"Storing secrets in scope {scope!r}"):
            scopes = self._call(
                "list secret scopes", lambda: list(secrets_api.list_scopes()), deadline
            )
            if scope.lower() not in {(s.name or "").lower() for s in scopes}:
                try:
                    self._call(
                        f"create secret scope {scope!r}",
                        partial(secrets_api.create_scope, scope),
                        deadline,
                    )
                    logger.info("Created secret scope %r", scope)
                except Exception as exc:
                    if _error_code(exc) != "RESOURCE_ALREADY_EXISTS":
                        raise
            for key, value in secrets.items():
                self._call(
                    f"store secret {key!r} in scope {scope!r}",
                    partial(
                        secrets_api.put_secret,
                        scope,
                        key,
                        string_value=value.get_secret_value(),
                    ),
                    deadline,
                )
                logger.info("Stored secret %r in scope %r", key, scope)
        return {key: f"{{{{secrets/{scope}/{key}}}}}" for key in secrets}

    def grant(self, principal: str, grants: Iterable[Grant] | ServedModelAccess) -> list[Grant]:
        """Give ``principal`` these privileges (only those it lacks); returns what was added.

        Unity Catalog privileges go through the grants API; ``CAN_QUERY`` on a serving
        endpoint through the endpoint's permissions. Privileges the principal already holds
        beyond these are left alone and logged as a warning.

        Args:
            principal: Service principal application id, user e-mail or group name.
            grants: The grants, or a :class:`ServedModelAccess` (its ``grants()``).

        Returns:
            The grants that were missing and are now given.

        Raises:
            ServingConfigError: The principal is empty or a name is invalid.
            ServingError: Databricks refused a grant (unknown principal or securable, ...).
        """
        if not isinstance(principal, str) or not principal.strip():
            raise ServingConfigError("principal is empty; pass the service principal's id")
        plan = grants.grants() if isinstance(grants, ServedModelAccess) else list(grants)
        deadline = time.monotonic() + self._timeout
        added: list[Grant] = []
        with self._translate(f"Granting {principal!r} what the served model uses"):
            for grant in plan:
                if grant.unity_catalog:
                    done = self._grant(
                        principal, grant.securable_type, grant.full_name, grant.privilege, deadline
                    )
                else:
                    done = self._grant_query(principal, grant.full_name, deadline)
                if done:
                    added.append(grant)
        return added

    def grant_read(self, principal: str, catalog: str, schema: str, tables: list[str]) -> None:
        """Let ``principal`` read ``tables``: USE CATALOG, USE SCHEMA and SELECT, nothing more.

        Raises:
            ServingConfigError: A name is invalid or no table is given.
            ServingError: Databricks refused a grant.
        """
        if not isinstance(principal, str) or not principal.strip():
            raise ServingConfigError("principal is empty; pass the service principal's id")
        check_part("catalog", catalog)
        check_part("schema", schema)
        if isinstance(tables, str) or not tables:
            raise ServingConfigError("tables must be a non-empty list of table names")
        plan = [Grant("CATALOG", catalog, "USE_CATALOG")]
        plan.append(Grant("SCHEMA", f"{catalog}.{schema}", "USE_SCHEMA"))
        plan += [Grant("TABLE", table_name(catalog, schema, t), "SELECT") for t in tables]
        self.grant(principal, plan)

    def current_principal(self) -> str:
        """Who the credentials are: a user's e-mail or a service principal's application id."""
        deadline = time.monotonic() + self._timeout
        with self._translate("Reading the current identity"):
            me = self._call("read the current user", self._workspace.current_user.me, deadline)
        # A service principal's userName is its application id.
        return str(me.user_name or me.display_name or me.id)

    def check_endpoints_exist(self, names: Sequence[str]) -> None:
        """Raise ServingConfigError naming each endpoint the workspace does not have.

        Used before a Databricks-flavour model is logged, so a wrong or retired LLM or
        embedding endpoint name stops the publish before anything is written.
        """
        deadline = time.monotonic() + self._timeout
        missing = []
        with self._translate("Checking the serving endpoints the model calls"):
            for name in dict.fromkeys(names):
                if self._get(name, deadline) is None:
                    missing.append(name)
        if missing:
            raise ServingConfigError(
                f"serving endpoint {', '.join(repr(m) for m in missing)} does not exist in "
                f"{self.host}, and the model would call it: check MOVIE_RAG_LLM_ENDPOINT and "
                "MOVIE_RAG_EMBEDDING_MODEL (e.g. databricks-meta-llama-3-3-70b-instruct, "
                "databricks-gte-large-en)"
            )

    # -- grants internals --------------------------------------------------------------------

    def _grant(
        self, principal: str, securable_type: str, full_name: str, privilege: str, deadline: float
    ) -> bool:
        from databricks.sdk.service.catalog import PermissionsChange, Privilege

        grants = self._workspace.grants
        held = self._privileges(principal, securable_type, full_name, deadline)
        beyond = sorted(held - {privilege})
        if beyond:
            logger.warning(
                "%r already holds %s on %s %s beyond what the served model uses; "
                "they are left as they are",
                principal,
                ", ".join(beyond),
                securable_type.lower(),
                full_name,
            )
        if privilege in held:
            return False
        change = PermissionsChange(principal=principal, add=[Privilege(privilege)])
        self._call(
            f"grant {privilege} on {securable_type.lower()} {full_name}",
            partial(grants.update, securable_type, full_name, changes=[change]),
            deadline,
        )
        logger.info(
            "Granted %s on %s %s to %r", privilege, securable_type.lower(), full_name, principal
        )
        return True

    def _privileges(
        self, principal: str, securable_type: str, full_name: str, deadline: float
    ) -> set[str]:
        held: set[str] = set()
        token: str | None = None
        while True:
            page = self._call(
                f"read the grants on {securable_type.lower()} {full_name}",
                partial(
                    self._workspace.grants.get,
                    securable_type,
                    full_name,
                    principal=principal,
                    max_results=0,
                    page_token=token,
                ),
                deadline,
            )
            for assignment in page.privilege_assignments or []:
                if assignment.principal == principal:
                    held.update(p.value for p in assignment.privileges or [])
            token = page.next_page_token
            if not token:
                return held

    def _grant_query(self, principal: str, endpoint: str, deadline: float) -> bool:
        """CAN QUERY on ``endpoint`` for ``principal`` (an endpoint permission, not UC)."""
        from databricks.sdk.service.serving import (
            ServingEndpointAccessControlRequest,
            ServingEndpointPermissionLevel,
        )

        current = self._get(endpoint, deadline)
        if current is None or not current.id:
            raise ServingError(
                f"Serving endpoint {endpoint!r} does not exist in {self.host}; the served model "
                "calls it, so create it (or fix the setting naming it) first",
                endpoint=endpoint,
                error_code="RESOURCE_DOES_NOT_EXIST",
            )
        api = self._workspace.serving_endpoints
        acl = self._call(
            f"read the permissions of serving endpoint {endpoint!r}",
            partial(api.get_permissions, current.id),
            deadline,
        )
        for entry in acl.access_control_list or []:
            who = entry.service_principal_name or entry.user_name or entry.group_name
            held = {
                p.permission_level.value for p in entry.all_permissions or [] if p.permission_level
            }
            if who == principal and held & _QUERYING:
                return False
        level = ServingEndpointPermissionLevel.CAN_QUERY
        if "@" in principal:
            request = ServingEndpointAccessControlRequest(
                user_name=principal, permission_level=level
            )
        elif _APPLICATION_ID.match(principal):
            request = ServingEndpointAccessControlRequest(
                service_principal_name=principal, permission_level=level
            )
        else:
            request = ServingEndpointAccessControlRequest(
                group_name=principal, permission_level=level
            )
        self._call(
            f"grant CAN_QUERY on serving endpoint {endpoint!r}",
            partial(api.update_permissions, current.id, access_control_list=[request]),
            deadline,
        )
        logger.info("Granted CAN_QUERY on serving endpoint %r to %r", endpoint, principal)
        return True


def _error_code(exc: BaseException) -> str | None:
    code = getattr(exc, "error_code", None)
    return code if isinstance(code, str) else None

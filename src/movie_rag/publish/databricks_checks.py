"""What a Databricks deploy checks before any request.

Names, versions, environment variables (never a plain credential), secrets and
inference-table places.

Every check raises :class:`~movie_rag.publish.errors.ServingConfigError` with one line naming
the argument; a value that may be a credential is never echoed.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

from movie_rag.publish.errors import ServingConfigError

if TYPE_CHECKING:
    from databricks.sdk.service.serving import (
        ServedEntityInput,
        ServedEntityOutput,
        TrafficConfig,
    )

__all__ = ["InferenceTableConfig", "ServedEntity", "served_entity"]

# Serving endpoint names: 1..63 alphanumerics, dashes and underscores; "databricks-" is
# reserved for the workspace's preconfigured endpoints.
_ENDPOINT_NAME = re.compile(r"^[A-Za-z0-9_-]{1,63}$")
_RESERVED_PREFIX = "databricks-"
# One part of a Unity Catalog name, restricted to what needs no quoting in a REST path.
_UC_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,254}$")
_VERSION = re.compile(r"^[1-9][0-9]*$")
_WORKLOAD_SIZE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Secret scope names allow '@' and '.', keys do not allow '@'; both at most 128 characters.
_SCOPE_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,128}$")
# Secret keys double as environment variable names, so they follow the stricter rule.
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_SECRET_REFERENCE = re.compile(r"^\{\{secrets/[A-Za-z0-9_.@-]{1,128}/[A-Za-z0-9_.-]{1,128}\}\}$")
_MAX_SECRET_BYTES = 128 * 1024

_TOKEN_PATTERNS = (
    re.compile(r"dapi[0-9a-f]{32}"),  # Databricks personal access token
    re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{16,}"),  # OpenAI-style API key
    re.compile(r"(?<![A-Za-z0-9])gh[pousr]_[A-Za-z0-9]{30,}"),  # GitHub token
    re.compile(r"(?<![A-Za-z0-9])hf_[A-Za-z0-9]{30,}"),  # Hugging Face token
    re.compile(r"(?<![A-Za-z0-9])xox[abpr]-[A-Za-z0-9-]{10,}"),  # Slack token
    re.compile(r"(?<![A-Za-z0-9])AKIA[0-9A-Z]{16}(?![A-Za-z0-9])"),  # AWS access key id
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\."),  # JSON web token
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
)
_SECRET_NAME_PARTS = frozenset(
    {"TOKEN", "SECRET", "PASSWORD", "PASSWD", "PWD", "CREDENTIAL", "CREDENTIALS", "APIKEY", "PAT"}
)
_SECRET_NAME_PAIRS = frozenset(
    {("API", "KEY"), ("ACCESS", "KEY"), ("PRIVATE", "KEY"), ("SECRET", "KEY"), ("AUTH", "KEY")}
)
# Long runs of token alphabet; '/' and '.' are left out so paths and model URIs never match.
_RANDOM_RUN = re.compile(r"[A-Za-z0-9+=_-]{32,}")


class InferenceTableConfig(BaseModel):
    """Where an endpoint logs its requests and responses (Unity Catalog Delta tables).

    Attributes:
        catalog_name: Catalog of the inference tables.
        schema_name: Schema of the inference tables.
        table_name_prefix: Prefix of the table names (``<prefix>_payload``, ...).
        enabled: False switches logging off; Databricks requires that before the tables
            may move to another catalog, schema or prefix.
    """

    model_config = ConfigDict(frozen=True)

    catalog_name: str
    schema_name: str
    table_name_prefix: str = "movie_rag"
    enabled: bool = True

    @field_validator("catalog_name", "schema_name", "table_name_prefix")
    @classmethod
    def _unity_catalog_part(cls, value: str) -> str:
        if not _UC_PART.match(value):
            raise ValueError(
                f"{value!r} is not a Unity Catalog name (letters, digits, '_' and '-')"
            )
        return value

    def same_place(self, catalog: str | None, schema: str | None, prefix: str | None) -> bool:
        """Whether the tables live at this catalog, schema and prefix."""
        return (catalog, schema, prefix or "") == (
            self.catalog_name,
            self.schema_name,
            self.table_name_prefix,
        )


@dataclass(frozen=True)
class ServedEntity:
    """The served entity a deploy asks for, in the form the API echoes it back."""

    name: str
    entity_name: str
    entity_version: str
    workload_size: str
    scale_to_zero: bool
    environment_vars: tuple[tuple[str, str], ...]

    def to_sdk(self) -> ServedEntityInput:
        """The entity as databricks-sdk's ``ServedEntityInput``."""
        from databricks.sdk.service.serving import ServedEntityInput

        return ServedEntityInput(
            name=self.name,
            entity_name=self.entity_name,
            entity_version=self.entity_version,
            workload_size=self.workload_size,
            scale_to_zero_enabled=self.scale_to_zero,
            environment_vars=dict(self.environment_vars) or None,
        )

    def traffic(self) -> TrafficConfig:
        """All the traffic to this entity."""
        from databricks.sdk.service.serving import Route, TrafficConfig

        return TrafficConfig(routes=[Route(served_entity_name=self.name, traffic_percentage=100)])

    def matches(self, served: ServedEntityOutput) -> bool:
        """Whether a served entity the API echoes is this one."""
        return (
            served.name == self.name
            and (served.entity_name or "").lower() == self.entity_name.lower()
            and served.entity_version == self.entity_version
            and served.workload_size == self.workload_size
            and bool(served.scale_to_zero_enabled) == self.scale_to_zero
            and dict(served.environment_vars or {}) == dict(self.environment_vars)
        )

    def describe(self) -> str:
        """``model vN`` for messages."""
        return f"{self.entity_name} v{self.entity_version}"


def check_endpoint_name(name: str) -> None:
    if not isinstance(name, str) or not _ENDPOINT_NAME.match(name):
        raise ServingConfigError(
            f"Serving endpoint name {name!r} is invalid: use 1 to 63 letters, digits, '-' and '_'"
        )
    if name.startswith(_RESERVED_PREFIX):
        raise ServingConfigError(
            f"Serving endpoint name {name!r} is invalid: the prefix {_RESERVED_PREFIX!r} is "
            "reserved for Databricks' own endpoints"
        )


def check_part(what: str, value: str) -> None:
    if not isinstance(value, str) or not _UC_PART.match(value):
        raise ServingConfigError(
            f"{what} {value!r} is not a Unity Catalog name (letters, digits, '_' and '-')"
        )


def table_name(catalog: str, schema: str, table: str) -> str:
    parts = table.split(".") if isinstance(table, str) else []
    if len(parts) == 3 and [p.lower() for p in parts[:2]] == [catalog.lower(), schema.lower()]:
        parts = parts[2:]
    if len(parts) != 1:
        raise ServingConfigError(
            f"table {table!r} is not a table of {catalog}.{schema}; pass its bare name or "
            f"{catalog}.{schema}.<table>"
        )
    check_part("table", parts[0])
    return f"{catalog}.{schema}.{parts[0]}"


def served_entity(
    model_name: str,
    model_version: str,
    workload_size: str,
    scale_to_zero: bool,
    environment_vars: Mapping[str, str] | None,
) -> ServedEntity:
    """The checked served entity of a deploy."""
    parts = model_name.split(".") if isinstance(model_name, str) else []
    if len(parts) != 3 or not all(_UC_PART.match(p) for p in parts):
        raise ServingConfigError(
            f"model_name {model_name!r} is not a three-level Unity Catalog name "
            "(catalog.schema.model); register the model in Unity Catalog and pass its full name"
        )
    version = str(model_version).strip()
    if not _VERSION.match(version):
        raise ServingConfigError(
            f"model_version {model_version!r} is not a registered model version number ('3')"
        )
    if not isinstance(workload_size, str) or not _WORKLOAD_SIZE.match(workload_size):
        raise ServingConfigError(
            f"workload_size {workload_size!r} is invalid; use Small, Medium, Large or a custom "
            "size of the workspace"
        )
    env = dict(environment_vars or {})
    for key, value in env.items():
        check_environment_variable(key, value)
    return ServedEntity(
        name=f"{parts[2]}-{version}",
        entity_name=model_name,
        entity_version=version,
        workload_size=workload_size,
        scale_to_zero=bool(scale_to_zero),
        environment_vars=tuple(sorted(env.items())),
    )


def check_environment_variable(key: str, value: str) -> None:
    if not isinstance(key, str) or not _ENV_NAME.match(key):
        raise ServingConfigError(
            f"environment variable name {key!r} is invalid: use letters, digits and '_', not "
            "starting with a digit"
        )
    if not isinstance(value, str):
        raise ServingConfigError(
            f"environment variable {key} must be a string (a secret reference or a plain value)"
        )
    if _SECRET_REFERENCE.match(value):
        return
    if value.startswith("{{secrets/"):
        raise ServingConfigError(
            f"environment variable {key} is not a well-formed secret reference; write "
            "{{secrets/<scope>/<key>}}"
        )
    if _names_a_secret(key) or _looks_like_credential(value):
        # The value itself is never echoed: it may be the very credential being protected.
        raise ServingConfigError(
            f"environment variable {key} carries a plain value that looks like a credential; "
            "store it with ensure_secret_scope() and pass the {{secrets/<scope>/<key>}} "
            "reference it returns instead"
        )


def _names_a_secret(key: str) -> bool:
    parts = key.upper().split("_")
    return bool(_SECRET_NAME_PARTS.intersection(parts)) or any(
        pair in _SECRET_NAME_PAIRS for pair in itertools.pairwise(parts)
    )


def _looks_like_credential(value: str) -> bool:
    if any(pattern.search(value) for pattern in _TOKEN_PATTERNS):
        return True
    for run in _RANDOM_RUN.findall(value):
        mixed = (
            any(c.islower() for c in run)
            and any(c.isupper() for c in run)
            and any(c.isdigit() for c in run)
        )
        if mixed and _entropy(run) >= 4.0:
            return True
    return False


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def check_scope(scope: str) -> None:
    if not isinstance(scope, str) or not _SCOPE_NAME.match(scope):
        raise ServingConfigError(
            f"secret scope {scope!r} is invalid: use 1 to 128 letters, digits, '-', '_', '.' "
            "and '@'"
        )


def check_secret(key: str, value: SecretStr) -> None:
    if not isinstance(key, str) or not _ENV_NAME.match(key):
        raise ServingConfigError(
            f"secret key {key!r} is invalid: it doubles as an environment variable name, so "
            "use letters, digits and '_', not starting with a digit"
        )
    if not isinstance(value, SecretStr):
        raise ServingConfigError(
            f"secret {key} must be a pydantic SecretStr (wrap it: SecretStr(value)) so it is "
            "never printed or logged"
        )
    raw = value.get_secret_value()
    if not raw:
        raise ServingConfigError(f"secret {key} is empty")
    if len(raw.encode()) > _MAX_SECRET_BYTES:
        raise ServingConfigError(f"secret {key} is larger than the 128 KB Databricks allows")


# -- reading endpoints -----------------------------------------------------------------------

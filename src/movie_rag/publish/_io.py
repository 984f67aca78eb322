"""The served model's I/O contract: HTTP payloads in, chain inputs; chain answers, JSON out.

Two request styles reach ``predict`` (after MLflow's scoring server has parsed the body):

- ``dataframe_split`` / ``dataframe_records`` rows with ``query`` and optional ``user_id``,
  ``filters`` (a JSON string, or an object) and ``k``; answered with one prediction per row,
  the answer text (``params.format = "text"``, the original UI's contract) or the
  RecommendationResponse as an object (``params.format = "json"``);
- a chat request ``{"messages": [...]}`` (OpenAI style; optional top-level ``k``, ``user_id``,
  ``filters``); answered with an OpenAI-style chat completion whose ``custom_outputs`` carry
  the structured recommendations. Assistant messages may carry ``recommendations`` (movie ids,
  as the reply's own message does), so a client that sends the conversation back gets
  follow-ups ("more like the second one") resolved without an LLM.

Nothing here imports MLflow: the model module maps :class:`RequestError` to an HTTP 400.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pandas as pd

    from movie_rag.chain.types import RecommendationResponse

FORMATS = ("text", "json")
ROW_COLUMNS = ("query", "user_id", "filters", "k")
CHAT_ROLES = ("system", "user", "assistant")
#: Limits of one request: rows, characters of one question (the UI's own limit), of a
#: ``filters`` string or a ``user_id``, messages in a conversation and characters in all of
#: them. A request beyond one is answered 400 at once, before any parsing or retrieval.
MAX_ROWS = 64
MAX_QUERY_CHARS = 4000
MAX_FIELD_CHARS = 2000
MAX_MESSAGES = 50
MAX_CONVERSATION_CHARS = 40_000
#: Longest text kept per value in the inference log (a rejected 10 MB body is not logged whole).
MAX_LOGGED_CHARS = 4096


class RequestError(ValueError):
    """A payload the model cannot answer; the message says what to send instead."""


@dataclass(frozen=True)
class ServedRequest:
    """A parsed request.

    Attributes:
        kind: ``dataframe`` (one question per row) or ``chat`` (one conversation).
        inputs: RecommenderChain inputs, one per question.
        format: ``text`` or ``json`` (dataframe requests).
        client_request_id: The caller's own id for the request, if given.
    """

    kind: Literal["dataframe", "chat"]
    inputs: list[dict[str, Any]]
    format: str = "text"
    client_request_id: str | None = None


def parse_request(model_input: Any, params: Mapping[str, Any] | None = None) -> ServedRequest:
    """Read what the scoring server hands to ``predict``.

    Args:
        model_input: A pandas DataFrame (the scoring server's form for both request styles),
            a mapping (one row or a chat request) or a list of mappings.
        params: The request's ``params``.

    Returns:
        The request, ready for the chain.

    Raises:
        RequestError: The payload breaks the contract.
    """
    params = dict(params or {})
    output_format = _clean(params.get("format")) or "text"
    if output_format not in FORMATS:
        raise RequestError(f"params.format must be one of {list(FORMATS)}, got {output_format!r}")
    client_request_id = client_request_id_of(params)
    rows = _rows(model_input)
    if not rows:
        raise RequestError(
            "the request has no rows; send dataframe_split/dataframe_records with a 'query' "
            'column, or a chat request {"messages": [...]}'
        )
    if any(_clean(row.get("messages")) is not None for row in rows):
        if len(rows) != 1:
            raise RequestError("a chat request carries one conversation ('messages'), not rows")
        return ServedRequest(
            "chat",
            [_chat_input(rows[0])],
            output_format,
            client_request_id,
        )
    if len(rows) > MAX_ROWS:
        raise RequestError(f"at most {MAX_ROWS} rows per request, got {len(rows)}")
    inputs = [_row_input(row, number) for number, row in enumerate(rows, start=1)]
    return ServedRequest(
        "dataframe",
        inputs,
        output_format,
        client_request_id,
    )


def client_request_id_of(params: Mapping[str, Any] | None) -> str | None:
    """The caller's own request id (``params.client_request_id``), if any."""
    value = _clean((params or {}).get("client_request_id"))
    return str(value) if value not in (None, "") else None


def request_kind(model_input: Any) -> str:
    """``chat``, ``dataframe``, or ``unknown`` for input that is neither."""
    try:
        rows = _rows(model_input)
    except RequestError:
        return "unknown"
    if any(_clean(row.get("messages")) is not None for row in rows):
        return "chat"
    return "dataframe" if rows else "unknown"


def _rows(model_input: Any) -> list[dict[str, Any]]:
    if model_input is None:
        return []
    if hasattr(model_input, "to_dict") and hasattr(model_input, "columns"):
        frame: pd.DataFrame = model_input
        return [{str(key): value for key, value in row.items()} for row in frame.to_dict("records")]
    if isinstance(model_input, Mapping):
        return [dict(model_input)]
    if isinstance(model_input, Sequence) and not isinstance(model_input, str | bytes):
        rows = []
        for item in model_input:
            if not isinstance(item, Mapping):
                raise RequestError(f"each row must be an object, got {type(item).__name__}")
            rows.append(dict(item))
        return rows
    raise RequestError(f"expected rows or a chat request, got {type(model_input).__name__}")


def _clean(value: Any) -> Any:
    """None for the ways a missing cell shows up (None, NaN, NaT); plain Python otherwise."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "tolist") and not isinstance(value, str | bytes):
        value = value.tolist()  # numpy scalars and arrays
        if isinstance(value, float) and math.isnan(value):
            return None
    return value


def _row_input(row: Mapping[str, Any], number: int) -> dict[str, Any]:
    where = f"row {number}"
    query = _clean(row.get("query"))
    if query is None:
        raise RequestError(
            f"{where}: 'query' is missing; every row needs a question in the 'query' column"
        )
    if not isinstance(query, str):
        raise RequestError(f"{where}: 'query' must be a string, got {type(query).__name__}")
    _check_length(query, MAX_QUERY_CHARS, f"{where}: 'query'")
    return _common(row, where) | {"query": query}


def _check_length(text: str, limit: int, what: str) -> None:
    if len(text) > limit:
        raise RequestError(
            f"{what} is {len(text):,} characters long; at most {limit:,} are accepted"
        )


def _common(source: Mapping[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    user_id = _clean(source.get("user_id"))
    if user_id is not None:
        if isinstance(user_id, bool) or not isinstance(user_id, str | int | float):
            raise RequestError(f"{where}: 'user_id' must be a string or a number")
        if isinstance(user_id, float) and not math.isfinite(user_id):
            raise RequestError(f"{where}: 'user_id' must be a string or a whole number")
        if isinstance(user_id, str):
            _check_length(user_id, 200, f"{where}: 'user_id'")
        out["user_id"] = str(int(user_id)) if isinstance(user_id, float) else str(user_id)
    filters = _clean(source.get("filters"))
    if filters is not None:
        if not isinstance(filters, str | Mapping):
            raise RequestError(
                f"{where}: 'filters' must be a JSON object (as a string or an object), "
                f"got {type(filters).__name__}"
            )
        if isinstance(filters, str):
            _check_length(filters, MAX_FIELD_CHARS, f"{where}: 'filters'")
        elif len(json.dumps(filters, default=str)) > MAX_FIELD_CHARS:
            raise RequestError(f"{where}: 'filters' is longer than {MAX_FIELD_CHARS:,} characters")
        out["filters"] = filters
    k = _k(_clean(source.get("k")), where)
    if k is not None:
        out["k"] = k
    return out


def _k(value: Any, where: str) -> int | None:
    if value is None or value == "":
        return None
    number: float
    if isinstance(value, bool):
        raise RequestError(f"{where}: 'k' must be a whole number between 1 and 50, got {value}")
    if isinstance(value, int | float):
        number = value
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise RequestError(
                f"{where}: 'k' must be a whole number between 1 and 50, got {value!r}"
            ) from None
    else:
        raise RequestError(f"{where}: 'k' must be a whole number, got {type(value).__name__}")
    if not math.isfinite(number) or number != int(number) or not 1 <= number <= 50:
        raise RequestError(f"{where}: 'k' must be a whole number between 1 and 50, got {value}")
    return int(number)


def _chat_input(row: Mapping[str, Any]) -> dict[str, Any]:
    messages = _clean(row.get("messages"))
    if not isinstance(messages, list) or not messages:
        raise RequestError("'messages' must be a non-empty list of {role, content} objects")
    if len(messages) > MAX_MESSAGES:
        raise RequestError(f"at most {MAX_MESSAGES} messages per conversation, got {len(messages)}")
    total = 0
    turns: list[dict[str, Any]] = []
    for number, message in enumerate(messages, start=1):
        where = f"messages[{number - 1}]"
        if not isinstance(message, Mapping):
            raise RequestError(f"{where}: expected an object with 'role' and 'content'")
        role = _clean(message.get("role"))
        if role not in CHAT_ROLES:
            raise RequestError(f"{where}: 'role' must be one of {list(CHAT_ROLES)}, got {role!r}")
        content = _clean(message.get("content"))
        if content is not None and not isinstance(content, str):
            raise RequestError(f"{where}: 'content' must be a string")
        total += len(content or "")
        if total > MAX_CONVERSATION_CHARS:
            raise RequestError(
                f"the conversation is longer than {MAX_CONVERSATION_CHARS:,} characters; "
                "send fewer or shorter messages"
            )
        if role == "system":
            continue  # The grounded generator has no system prompt to extend.
        turns.append(
            {
                "role": role,
                "content": content or "",
                "recommendations": _movie_ids(message.get("recommendations"), where),
            }
        )
    if not turns or turns[-1]["role"] != "user" or not turns[-1]["content"].strip():
        raise RequestError("the last message must be the user's question (role 'user')")
    question = turns.pop()
    _check_length(question["content"], MAX_QUERY_CHARS, "the last message")
    chain_input = _common(row, "the chat request") | {"query": question["content"]}
    chain_input["history"] = turns
    return chain_input


def _movie_ids(value: Any, where: str) -> list[int]:
    value = _clean(value)
    if value is None:
        return []
    if not isinstance(value, list):
        raise RequestError(f"{where}: 'recommendations' must be a list of movie ids")
    ids = []
    for item in value:
        if isinstance(item, Mapping):  # a client may send back whole recommendation objects
            item = item.get("movie_id")
        if isinstance(item, bool) or not isinstance(item, int | float) or item != int(item):
            raise RequestError(f"{where}: 'recommendations' must hold integer movie ids")
        ids.append(int(item))
    return ids


# -- answers -----------------------------------------------------------------------------


def dataframe_predictions(
    responses: Sequence[RecommendationResponse], output_format: str
) -> list[Any]:
    """One prediction per row: the answer text, or the whole response as an object."""
    if output_format == "json":
        return [response.model_dump(mode="json") for response in responses]
    return [response.answer for response in responses]


def chat_completion(
    response: RecommendationResponse, *, request_id: str, model: str
) -> dict[str, Any]:
    """An OpenAI-style chat completion carrying the structured answer in ``custom_outputs``.

    The assistant message also lists the recommended movie ids, so a client that appends it
    to the conversation as-is makes follow-ups work.
    """
    return {
        "id": f"chatcmpl-{request_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": response.answer,
                    "recommendations": [r.movie_id for r in response.recommendations],
                },
                "finish_reason": "stop",
            }
        ],
        "custom_outputs": response.model_dump(mode="json"),
    }


def request_record(
    model_input: Any,
    params: Mapping[str, Any] | None,
    redact: Callable[[str], str] | None = None,
) -> str:
    """The request as JSON for the inference log (the body as the model received it).

    Every string is cut to :data:`MAX_LOGGED_CHARS` and at most :data:`MAX_ROWS` rows are
    kept (a rejected 10 MB body is logged by its head), so a log line stays small.

    Args:
        model_input: What ``predict`` received.
        params: The request's params.
        redact: Applied to the free text (``query``, message ``content``) before it is
            written, e.g. :func:`movie_rag.privacy.redact_pii`. When given, the other
            values (``filters``, params such as ``client_request_id``, unknown columns) go
            through :func:`movie_rag.privacy.redact_value` and ``user_id`` through
            :func:`movie_rag.privacy.redact_user_id`, so nothing personal is written.
    """
    from movie_rag.privacy import redact_user_id, redact_value

    try:
        rows = _rows(model_input)
    except RequestError:
        rows = [{"unreadable": repr(model_input)[:2000]}]
    dropped = max(0, len(rows) - MAX_ROWS)
    rows = rows[:MAX_ROWS]
    free = _shortened(redact) if redact else _shortened(lambda text: text)
    other: Callable[[Any], Any] = (
        (lambda value: redact_value(_short_value(value))) if redact else _short_value
    )
    user: Callable[[str], str] = (lambda value: redact_user_id(_short(value))) if redact else _short
    body: dict[str, Any]
    if len(rows) == 1 and _clean(rows[0].get("messages")) is not None:
        body = _present(rows[0], free, other, user)
    else:
        body = {"dataframe_records": [_present(row, free, other, user) for row in rows]}
        if dropped:
            body["rows_not_logged"] = dropped
    if params:
        body["params"] = other({key: _clean(value) for key, value in params.items()})
    return json.dumps(body, ensure_ascii=False, default=str)


def _short(text: str) -> str:
    if len(text) <= MAX_LOGGED_CHARS:
        return text
    return f"{text[:MAX_LOGGED_CHARS]}…[{len(text) - MAX_LOGGED_CHARS:,} more characters]"


def _shortened(redact: Callable[[str], str]) -> Callable[[str], str]:
    return lambda text: redact(_short(text))


def _short_value(value: Any) -> Any:
    if isinstance(value, str):
        return _short(value)
    if isinstance(value, Mapping):
        return {key: _short_value(item) for key, item in list(value.items())[:MAX_ROWS]}
    if isinstance(value, list | tuple):
        return [_short_value(item) for item in list(value)[:MAX_ROWS]]
    return value


def _present(
    row: Mapping[str, Any],
    redact: Callable[[str], str],
    other: Callable[[Any], Any],
    user: Callable[[str], str],
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        value = _clean(value)
        if value is None:
            continue
        if key == "query" and isinstance(value, str):
            out[key] = redact(value)
        elif key == "messages" and isinstance(value, list):
            out[key] = [
                {
                    **other({k: v for k, v in m.items() if k != "content"}),
                    "content": redact(m["content"]),
                }
                if isinstance(m, Mapping) and isinstance(m.get("content"), str)
                else other(m)
                for m in value[:MAX_MESSAGES]
            ]
        elif key == "user_id" and isinstance(value, str):
            out[key] = user(value)
        else:
            out[key] = other(value)
    return out

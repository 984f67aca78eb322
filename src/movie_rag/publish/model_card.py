"""The model card logged with every model, and the short description registered with it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from movie_rag.settings import MovieRagSettings

__all__ = ["MODEL_CARD_LICENCES", "model_card_summary", "render_model_card"]

MODEL_CARD_LICENCES = """\
## Data and licences

- **MovieLens** (GroupLens Research, University of Minnesota): research use only, **no
  commercial use**; redistribution needs GroupLens' permission. Cite F. Maxwell Harper and
  Joseph A. Konstan. 2015. *The MovieLens Datasets: History and Context.* ACM Transactions
  on Interactive Intelligent Systems 5, 4, Article 19.
- **IMDb-derived data** (plots, people, ratings): personal and **non-commercial use only**
  under IMDb's terms.
- Anything built on this model inherits these terms: it is not licensed for commercial use.
"""


def render_model_card(
    settings: MovieRagSettings,
    flavour: str,
    movies: int,
    manifest: Mapping[str, Any] | None = None,
    collab_manifest: Mapping[str, Any] | None = None,
) -> str:
    """The model card: what the model does, how to call it, and the data licences."""
    manifest = manifest or {}
    if collab_manifest is not None:
        counts = collab_manifest.get("counts") or {}
        ranking = (
            "content similarity blended with a collaborative model (co-like neighbours "
            f"and implicit ALS, trained on {counts.get('ratings', 0):,} MovieLens ratings "
            f"of {counts.get('users', 0):,} users) shipped inside the model; a `user_id` "
            "of one of those users personalises the answer"
        )
    else:
        ranking = "content similarity, rating and popularity (no collaborative model)"
    index = (
        f"a local exact index ({manifest.get('model_name')}, "
        f"{manifest.get('dimension')}-d, {manifest.get('row_count')} movies) shipped "
        "inside the model"
        if flavour == "local"
        else "Databricks Vector Search (declared as a model resource)"
    )
    generator = (
        "the grounded generator (no LLM)"
        if not settings.llm_enabled
        else f"an LLM ({settings.llm_provider}: {settings.llm_endpoint}), grounded in the catalogue"
    )
    return f"""\
# movie_rag — movie recommendations

Answers questions such as "I liked 'Jurassic Park'. Anything similar?" with movies from a
catalogue of {movies:,} titles, every one of them checked against the catalogue.

- Retrieval: {index}.
- Ranking: {ranking}.
- Answers: {generator}.
- Flavour: `{flavour}`.

## Calling it

- `dataframe_split` / `dataframe_records` with column `query` and optional `user_id`,
  `filters` (JSON string), `k` → `{{"predictions": [answer, ...]}}`.
- The same with `"params": {{"format": "json"}}` → one RecommendationResponse object per row.
- A chat request `{{"messages": [...]}}` → an OpenAI-style chat completion; the structured
  recommendations are in `custom_outputs`, and the assistant message lists their movie ids
  (send it back in `messages` for follow-ups such as "more like the second one").

{MODEL_CARD_LICENCES}
## Limitations

Recommendations come only from the catalogue the model was built with; ratings are MovieLens
and IMDb snapshots. Personal data in questions is redacted before any model or log sees it.
"""


# -- registry ------------------------------------------------------------------------


def model_card_summary(flavour: str) -> str:
    """The short description registered with each version (licences included)."""
    return (
        "movie_rag movie recommender (RecommenderChain, "
        f"{flavour} flavour). Data: MovieLens (research use only, no commercial use; "
        "cite Harper & Konstan 2015) and IMDb-derived data (non-commercial use only). "
        "See MODEL_CARD.md in the model's artifacts."
    )

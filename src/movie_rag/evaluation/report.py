"""The evaluation report: a table, markdown and HTML pages with plots, and an MLflow run.

Files go to ``<workdir>/reports/evaluation/``: ``results.json`` (the whole
:class:`~movie_rag.evaluation.runner.EvaluationReport`), ``report.md``, ``report.html`` and
the plots (``ndcg.png``: nDCG@k per system and protocol; ``accuracy_novelty.png``: nDCG@k
against novelty). The MLflow run (experiment ``movie_rag-evaluation`` in the workdir's local
sqlite store, as :class:`~movie_rag.publish.publisher.ModelPublisher` uses) carries the
parameters, one metric per protocol/system/metric and every file as an artifact.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING

from movie_rag.evaluation.harness import BEYOND_METRICS, RANKING_METRICS
from movie_rag.workdir import Workdir

if TYPE_CHECKING:
    from movie_rag.evaluation.runner import EvaluationReport

__all__ = [
    "COLUMN_GROUPS",
    "EXPERIMENT",
    "log_to_mlflow",
    "markdown_report",
    "not_applicable",
    "table_rows",
    "write_report",
]

EXPERIMENT = "movie_rag-evaluation"
#: Columns of the results table, in order.
COLUMNS = (*RANKING_METRICS, *BEYOND_METRICS, "latency_ms_p50")
_LABELS = {
    "precision": "P@k",
    "recall": "R@k",
    "ndcg": "nDCG@k",
    "hit_rate": "HR@k",
    "mrr": "MRR",
    "coverage": "coverage",
    "diversity": "ILD",
    "novelty": "novelty",
    "popularity": "popularity",
    "concentration": "top-1%",
    "grounding": "grounded",
    "latency_ms_p50": "p50 ms",
}


#: Column groups for narrow terminals: how well each system ranks, then what else it does.
COLUMN_GROUPS = (tuple(RANKING_METRICS), (*BEYOND_METRICS, "latency_ms_p50"))


def table_rows(
    report: EvaluationReport, columns: tuple[str, ...] = COLUMNS, *, protocol: str | None = None
) -> list[list[str]]:
    """Header row, then one row per protocol and system, values formatted for a table.

    Systems that do not apply to a protocol (no numbers) are left out; ``not_applicable``
    lists them.

    Args:
        report: The evaluation.
        columns: Which metric columns, in order (default all).
        protocol: Only this protocol's rows (and no protocol column).
    """
    first = [] if protocol else ["protocol"]
    rows = [[*first, "system", *(_LABELS[c] for c in columns)]]
    for result_set in report.protocols:
        if protocol is not None and result_set.protocol != protocol:
            continue
        for result in result_set.systems:
            if not result.applicable:
                continue
            values = {**result.metrics, "latency_ms_p50": result.latency_ms_p50}
            lead = [] if protocol else [result_set.protocol]
            rows.append([*lead, result.system, *(_format(c, values[c]) for c in columns)])
    return rows


def not_applicable(report: EvaluationReport) -> list[str]:
    """``system (protocol)`` for every system that did not apply to a protocol."""
    return [
        f"{r.system} ({p.protocol})"
        for p in report.protocols
        for r in p.systems
        if not r.applicable
    ]


def markdown_report(report: EvaluationReport, plots: dict[str, str] | None = None) -> str:
    """The report as markdown: parameters, the table, timings, plots."""
    rows = table_rows(report)
    lines = [
        "# Evaluation report",
        "",
        f"Run {report.created} on {report.catalogue_size:,} movies; k = {report.params['k']}; "
        f"{report.heldout_tags} tags held out of the build; users split "
        f"{report.split['train_users']} train / {report.split['validation_users']} validation / "
        f"{report.split['test_users']} test (seed {report.split['seed']}).",
        "",
        "| " + " | ".join(rows[0]) + " |",
        "|" + "|".join(" --- " for _ in rows[0]) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    if skipped_rows := not_applicable(report):
        lines += ["", "Not applicable: " + ", ".join(skipped_rows) + "."]
    lines += [
        "",
        "Queries per protocol: "
        + ", ".join(f"{p.protocol} {p.queries}" for p in report.protocols)
        + ".",
    ]
    for protocol in report.protocols:
        if protocol.extra:
            extra = ", ".join(f"{k} = {v:g}" for k, v in protocol.extra.items())
            lines += ["", f"{protocol.protocol}: {extra}."]
    if report.skipped:
        lines += [
            "",
            "Skipped: " + "; ".join(f"{k} ({v})" for k, v in report.skipped.items()) + ".",
        ]
    if report.judge:
        lines += ["", "LLM judge (mean score):", ""]
        for judged, scores in report.judge.items():
            lines.append(f"- {judged}: " + ", ".join(f"{k} {v:.3f}" for k, v in scores.items()))
    timings = ", ".join(f"{k} {v:.1f} s" for k, v in report.timings.items())
    lines += ["", f"Timings: {timings}. Machine: {_machine(report)}.", ""]
    lines += ["## Parameters", "", "```json", json.dumps(report.params, indent=2), "```", ""]
    for name, path in (plots or {}).items():
        lines += [f"![{name}]({path})", ""]
    return "\n".join(lines)


def write_report(report: EvaluationReport, directory: str | Path) -> dict[str, Path]:
    """Write results.json, report.md, report.html and the plots; returns name → path."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"results": out / "results.json"}
    paths["results"].write_text(report.model_dump_json(indent=2) + "\n")
    plots = _plots(report, out)
    paths.update(plots)
    relative = {name: path.name for name, path in plots.items()}
    paths["markdown"] = out / "report.md"
    paths["markdown"].write_text(markdown_report(report, relative))
    paths["html"] = out / "report.html"
    paths["html"].write_text(_html(report, relative))
    return paths


def default_directory(workdir: str | Path) -> Path:
    """``<workdir>/reports/evaluation``."""
    return Workdir(workdir).reports / "evaluation"


def log_to_mlflow(report: EvaluationReport, files: dict[str, Path], workdir: str | Path) -> str:
    """Log parameters, metrics and report files to the workdir's local MLflow store.

    Returns:
        The MLflow run id.
    """
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    store = Workdir(workdir).mlflow
    store.mkdir(parents=True, exist_ok=True)
    client = MlflowClient(tracking_uri=f"sqlite:///{store / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(EXPERIMENT)
    experiment_id = (
        experiment.experiment_id
        if experiment is not None
        else client.create_experiment(EXPERIMENT, artifact_location=(store / "artifacts").as_uri())
    )
    run = client.create_run(experiment_id, run_name=f"evaluation-{report.created}")
    run_id = run.info.run_id
    params = [Param(k, str(v)) for k, v in sorted(report.params.items())]
    params += [Param(f"split.{k}", str(v)) for k, v in sorted(report.split.items())]
    now = _millis()
    metrics = [
        Metric(f"{p.protocol}.{r.system}.{name}", float(value), now, 0)
        for p in report.protocols
        for r in p.systems
        for name, value in r.metrics.items()
    ]
    metrics += [Metric(f"seconds.{k}", float(v), now, 0) for k, v in report.timings.items()]
    client.log_batch(run_id, metrics=metrics, params=params)
    for path in files.values():
        client.log_artifact(run_id, str(path), artifact_path="report")
    client.set_terminated(run_id)
    return str(run_id)


def _plots(report: EvaluationReport, out: Path) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths: dict[str, Path] = {}
    protocols = report.protocols
    systems = list(dict.fromkeys(r.system for p in protocols for r in p.systems))
    colours = {system: f"C{i % 10}" for i, system in enumerate(systems)}
    fig, ax = plt.subplots(figsize=(8, 3.8))
    width = 0.8 / max(len(systems), 1)
    for i, system in enumerate(systems):
        values = []
        for p in protocols:
            found = [r for r in p.systems if r.system == system and r.applicable]
            values.append(found[0].metrics["ndcg"] if found else 0.0)
        ax.bar(
            [j + i * width for j in range(len(protocols))],
            values,
            width,
            label=system,
            color=colours[system],
        )
    ax.set_xticks([j + width * (len(systems) - 1) / 2 for j in range(len(protocols))])
    ax.set_xticklabels([p.protocol for p in protocols])
    ax.set_ylabel(f"nDCG@{report.params['k']}")
    # The legend sits beside the axes, never over a bar.
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    paths["ndcg"] = out / "ndcg.png"
    fig.savefig(paths["ndcg"], dpi=110, bbox_inches="tight")
    plt.close(fig)

    # Colour is the system, the marker the protocol, both explained in legends beside the
    # axes: no text is drawn among the points (labels there overlapped).
    from matplotlib.lines import Line2D

    fig, ax = plt.subplots(figsize=(8, 3.8))
    markers = "osD^v<>"
    for i, p in enumerate(protocols):
        for r in p.systems:
            if r.applicable:
                ax.scatter(
                    r.metrics["novelty"],
                    r.metrics["ndcg"],
                    marker=markers[i % 7],
                    color=colours[r.system],
                    s=36,
                )
    ax.set_xlabel("novelty (bits)")
    ax.set_ylabel(f"nDCG@{report.params['k']}")
    system_handles = [
        Line2D([], [], marker="o", linestyle="", color=colours[s], label=s) for s in systems
    ]
    protocol_handles = [
        Line2D([], [], marker=markers[i % 7], linestyle="", color="0.3", label=p.protocol)
        for i, p in enumerate(protocols)
    ]
    first = ax.legend(
        handles=system_handles,
        title="system",
        fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
    )
    ax.add_artist(first)
    ax.legend(
        handles=protocol_handles,
        title="protocol",
        fontsize=8,
        loc="lower left",
        bbox_to_anchor=(1.01, 0.0),
        frameon=False,
    )
    fig.tight_layout()
    paths["accuracy_novelty"] = out / "accuracy_novelty.png"
    fig.savefig(paths["accuracy_novelty"], dpi=110, bbox_inches="tight")
    plt.close(fig)
    return paths


def _html(report: EvaluationReport, plots: dict[str, str]) -> str:
    rows = table_rows(report)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows[1:]
    )
    images = "".join(
        f'<p><img src="{html.escape(p)}" alt="{html.escape(n)}"></p>' for n, p in plots.items()
    )
    params = html.escape(json.dumps(report.params, indent=2))
    timings = ", ".join(f"{k} {v:.1f} s" for k, v in report.timings.items())
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Evaluation report</title>"
        "<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:right}"
        "table{border-collapse:collapse}tr:nth-child(even){background:#f3f3f3}</style></head>"
        f"<body><h1>Evaluation report</h1><p>Run {html.escape(report.created)} on "
        f"{report.catalogue_size:,} movies, k = {report.params['k']}.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        f"<p>Timings: {html.escape(timings)}. Machine: {html.escape(_machine(report))}.</p>"
        f"{images}<h2>Parameters</h2><pre>{params}</pre></body></html>\n"
    )


def _machine(report: EvaluationReport) -> str:
    m = report.machine
    return f"{m.get('cpus')} cores, load {m.get('load_average_1m')}, Python {m.get('python')}"


def _format(column: str, value: float) -> str:
    if column in ("popularity", "latency_ms_p50"):
        return f"{value:.1f}"
    if column == "novelty":
        return f"{value:.2f}"
    return f"{value:.3f}"


def _millis() -> int:
    import time

    return int(time.time() * 1000)

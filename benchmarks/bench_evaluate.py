"""The full evaluation on a built workdir, timed, plus grounding under an adversarial LLM.

Usage: .venv/bin/python benchmarks/bench_evaluate.py --workdir DIR [--reduced]

1. ``movie-rag evaluate --workdir DIR --json`` in a fresh process, wall time included (bar:
   under 10 minutes on 2 cores with the embedding cache of DIR's index).
2. The ``grounding`` protocol with the chain answering through the OpenAI-compatible chat
   emulator (tests/emulators/openai_chat.py) scripted as an adversarial LLM that names real
   candidates in odd forms and invents titles; loopback only.

Results: a table on stdout and ``benchmarks/results/evaluation.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from pydantic import SecretStr

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "evaluation")]


def run_cli(workdir: Path, reduced: bool) -> tuple[dict, float]:
    command = [str(REPO / ".venv" / "bin" / "movie-rag"), "evaluate", "--workdir", str(workdir)]
    command += ["--json"] + (["--reduced"] if reduced else [])
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"movie-rag evaluate failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout), seconds


def run_grounding(workdir: Path, reduced: bool) -> dict:
    from adversarial_llm import adversarial_responder

    from emulators.openai_chat import DEFAULT_MODEL, OpenAIChatEmulator
    from movie_rag.evaluation.build import EvaluationBuild, EvaluationInputs
    from movie_rag.evaluation.harness import run_protocol
    from movie_rag.evaluation.protocols import PROTOCOLS, ProtocolParams
    from movie_rag.evaluation.systems import build_llm_chain
    from movie_rag.settings import MovieRagSettings

    params = ProtocolParams.reduced() if reduced else ProtocolParams()
    settings = MovieRagSettings(workdir=workdir)
    # The evaluation build is reused (stamped); only the protocols' context is needed.
    inputs = EvaluationInputs.from_build_report(workdir)
    context = EvaluationBuild(settings, inputs, params).prepare()
    with OpenAIChatEmulator() as server:
        server.responder = adversarial_responder(seed=11)
        llm = context.settings.model_copy(
            update={
                "llm_provider": "openai",
                "llm_base_url": server.openai_base_url,
                "llm_api_key": SecretStr(server.api_key),
                "llm_endpoint": DEFAULT_MODEL,
                "llm_max_retries": 0,
            }
        )
        llm_context = dataclasses.replace(context, settings=llm)
        result = run_protocol(
            PROTOCOLS["grounding"], llm_context, {"chain-llm": build_llm_chain(llm_context)}
        )
    return result.model_dump()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, required=True, help="a built workdir")
    parser.add_argument("--reduced", action="store_true", help="the CI protocol")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    document, seconds = run_cli(args.workdir, args.reduced)
    grounding = run_grounding(args.workdir, args.reduced)
    result = {
        "machine": document["machine"],
        "load_average_1m_before": round(load_before, 2),
        "load_average_1m_after": round(os.getloadavg()[0], 2),
        "evaluate_wall_seconds": round(seconds, 1),
        "evaluate": document,
        "grounding": grounding,
    }
    print(f"movie-rag evaluate: {seconds:.1f} s wall ({document['timings']})")
    for protocol in document["protocols"]:
        for system in protocol["systems"]:
            metrics = system["metrics"]
            if metrics:
                print(
                    f"  {protocol['protocol']:<8} {system['system']:<11} "
                    f"nDCG {metrics['ndcg']:.3f}  HR {metrics['hit_rate']:.3f}  "
                    f"novelty {metrics['novelty']:.2f}"
                )
    metrics = grounding["systems"][0]["metrics"]
    print(
        f"  grounding chain-llm: returned {metrics['grounding']:.3f}, "
        f"LLM-named {metrics['llm_grounding']:.3f} of {metrics['llm_titles']:.0f} titles"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "evaluation.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

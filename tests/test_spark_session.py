"""The local Spark session: extra driver JVM options reach the JVM that runs the jobs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.spark

# A fresh process: get_spark reuses an active session, and the test session has one.
_PROBE = """
import json, sys
from movie_rag.settings import MovieRagSettings
from movie_rag.spark import get_spark

settings = MovieRagSettings(
    workdir=sys.argv[1], spark_master="local[1]", spark_java_options=sys.argv[2]
)
spark = get_spark(settings)
runtime = spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()
print(json.dumps({
    "arguments": list(runtime.getInputArguments()),
    "count": spark.range(10).count(),
}))
spark.stop()
"""


def test_spark_java_options_reach_the_driver_jvm(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MOVIE_RAG_SPARK_JAVA_OPTIONS"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _PROBE,
            str(tmp_path),
            "-XX:TieredStopAtLevel=1 -Dmovie_rag.probe=yes",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert "-XX:TieredStopAtLevel=1" in seen["arguments"]
    assert "-Dmovie_rag.probe=yes" in seen["arguments"]
    # The session's own options are kept beside them.
    assert any(a.startswith("-Dlog4j2.configurationFile=") for a in seen["arguments"])
    assert seen["count"] == 10

"""The API reference renders cross-references as links: no raw Sphinx roles on any page."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
RAW_ROLE = re.compile(r":(class|meth|func|attr|mod|exc|data):`?")


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("mkdocs") is None and not Path(sys.executable).with_name("mkdocs").exists(),
    reason="mkdocs missing",
)
def test_built_api_pages_have_links_and_no_raw_roles(tmp_path: Path) -> None:
    mkdocs = Path(sys.executable).with_name("mkdocs")
    result = subprocess.run(
        [
            str(mkdocs if mkdocs.exists() else "mkdocs"),
            "build",
            "--strict",
            "-q",
            "-d",
            str(tmp_path),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    pages = sorted((tmp_path / "api").glob("*/index.html"))
    assert len(pages) >= 10
    raw = {
        page.parent.name: RAW_ROLE.findall(page.read_text(encoding="utf-8"))
        for page in pages
        if RAW_ROLE.search(page.read_text(encoding="utf-8"))
    }
    assert raw == {}
    chain = (tmp_path / "api" / "chain" / "index.html").read_text(encoding="utf-8")
    assert 'class="autorefs autorefs-internal"' in chain

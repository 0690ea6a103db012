"""The contracts: buf lint and format are clean, nothing breaks the committed
baseline image, and gen/ is what the protos generate today."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, run_tool

BASELINE = ROOT / "api" / "baseline.binpb"


@pytest.fixture(scope="module", autouse=True)
def third_party_protos() -> None:
    """buf reads google/api and google/rpc from third_party/, filled from the pinned wheel."""
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_protos.py"), "--third-party-only"], check=True, timeout=60
    )


def test_buf_lint_standard_is_clean():
    result = run_tool("buf", "lint", timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_buf_format_is_clean():
    result = run_tool("buf", "format", "-d", "--exit-code", "proto", timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_breaking_change_against_baseline():
    assert BASELINE.exists(), "api/baseline.binpb is missing; see README 'Changing a contract'"
    result = run_tool("buf", "breaking", "proto", "--against", str(BASELINE), timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_breaking_check_catches_a_breaking_change(tmp_path):
    """The check is real: renumbering a field in a copy of the protos fails it."""
    import shutil

    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "proto", copy / "proto")
    shutil.copytree(ROOT / "third_party", copy / "third_party")
    shutil.copy(ROOT / "buf.yaml", copy / "buf.yaml")
    target = copy / "proto" / "huleedu" / "llm" / "v1" / "comparison.proto"
    text = target.read_text()
    target.write_text(text.replace("string essay_a_text = 2", "string essay_a_text = 99"))
    tool = Path(sys.executable).parent / "buf"
    result = subprocess.run(
        [str(tool), "breaking", "proto", "--against", str(BASELINE)],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "essay_a_text" in result.stdout + result.stderr


def test_generated_code_is_fresh(tmp_path):
    out = tmp_path / "gen"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_protos.py"), "--out", str(out)],
        check=True,
        timeout=120,
        capture_output=True,
    )
    committed = sorted(
        p.relative_to(ROOT / "gen") for p in (ROOT / "gen").rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )
    fresh = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert committed == fresh, "gen/ has different files; run `make gen`"
    stale = [str(p) for p in fresh if not filecmp.cmp(out / p, ROOT / "gen" / p, shallow=False)]
    assert not stale, f"gen/ is stale for {stale}; run `make gen`"

"""The README's client and grpcurl examples, run top to bottom as written against the three
servers as real processes. Two things differ from a reader's run, and only these: the servers'
ports (the test's servers listen on free ports, so `127.0.0.1:5005x` is replaced by them and the
HULEEDU_*_TARGET variables point there) and `make serve &` (the servers are already running).
The commands run in a scratch folder holding links to `.venv` and `examples`."""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import subprocess

import pytest

from stack.processes import stack_envs, start_stack, stop_stack
from tests.helpers import ROOT, require_tool

SECTIONS = ("## The command-line client", "## Debugging with grpcurl and buf curl")
DEFAULT_PORTS = {"50051": "cj_server", "50052": "llm_provider_server", "50053": "ras_server"}


def readme_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = []
    for heading in SECTIONS:
        section = text[text.index(heading) :]
        section = section[: section.find("\n## ", len(heading))]
        blocks += re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)
    return blocks


def script(targets: dict[str, str]) -> str:
    lines = []
    for block in readme_blocks():
        for line in block.splitlines():
            if line.strip().startswith("make serve &"):
                continue
            for port, module in DEFAULT_PORTS.items():
                line = line.replace(f"127.0.0.1:{port}", targets[module])
            lines.append(line)
    return "set -euo pipefail\n" + "\n".join(lines) + "\n"


@pytest.fixture
def servers(tmp_path):
    lps = {
        "LPS_MOCK_MODE": "essay_features",
        "LPS_MOCK_LATENCY_SCALE": "0.02",
        "LPS_MOCK_BATCH_VALIDATING_SECONDS": "0.1",
        "LPS_MOCK_BATCH_PROCESSING_SECONDS": "0.3",
        "LPS_MOCK_BATCH_FINALIZING_SECONDS": "0.1",
        "LPS_BATCH_POLL_INTERVAL_SECONDS": "0.1",
    }
    processes = start_stack(tmp_path, stack_envs(tmp_path, lps))
    yield {module: process.target for module, process in processes.items()}
    faults = [
        f"{module}: {m.get('message')} {m.get('exc_info', m.get('exception', ''))}"[:3000]
        for module, process in processes.items()
        for m in process.log_messages()
        if m.get("level") == "ERROR"
    ]
    print("\n".join(faults))  # shown when the test fails: what the servers logged as faults
    assert stop_stack(processes) == {"cj_server": 0, "ras_server": 0, "llm_provider_server": 0}


@pytest.mark.slow
def test_the_readme_examples_run_top_to_bottom(servers, tmp_path):
    for tool in ("grpcurl", "buf", "huleedu"):
        if not (ROOT / ".venv" / "bin" / tool).exists():
            problem = f".venv/bin/{tool} is missing (make setup installs it)"
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(problem)
            pytest.skip(problem)
    require_tool("bash", "any shell")
    work = tmp_path / "reader"
    work.mkdir()
    for name in (".venv", "examples"):
        (work / name).symlink_to(ROOT / name)
    env = {
        **os.environ,
        "HULEEDU_CJ_TARGET": servers["cj_server"],
        "HULEEDU_LPS_TARGET": servers["llm_provider_server"],
        "HULEEDU_RAS_TARGET": servers["ras_server"],
    }
    ran = subprocess.run(
        ["bash", "-c", script(servers)], cwd=work, env=env, capture_output=True, text=True, timeout=240
    )
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    assert "ALREADY_EXISTS" not in ran.stdout + ran.stderr
    assert re.search(r"exit code \d+: NOT_FOUND", ran.stdout) and re.search(
        r"exit code \d+: INVALID_ARGUMENT", ran.stdout
    )

    raw = (work / "results-9a.csv").read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    students = {r["essay_name"] for r in rows if r["is_anchor"] == "false"}
    assert students == {p.stem for p in (ROOT / "examples" / "class-9a").iterdir()}
    result = json.loads((work / "results-9b.json").read_text(encoding="utf-8"))
    assert "Nguyễn Thị Lan" in {e["essay_name"] for e in result["essay_results"]}
    page = (work / "report-9b.html").read_text(encoding="utf-8")
    assert '<td class="name">Zoë Martin</td>' in page and "<svg" in page
    assert "completed_successfully" in ran.stdout and "class-9a" in ran.stdout

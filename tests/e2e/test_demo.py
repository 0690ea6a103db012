"""The README's main command, run as a user would: three real server processes assess the
sample essays, the result aggregator shows the batch complete, and a report is written."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers import ROOT


def test_demo_assesses_the_sample_essays_end_to_end(tmp_path):
    report = tmp_path / "report.html"
    result = subprocess.run(
        [sys.executable, "-m", "stack.demo", "--workdir", str(tmp_path), "--report", str(report)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    for module in ("llm_provider_server", "ras_server", "cj_server"):
        assert f"{module}" in out and "health: SERVING" in out
    assert "demo finished" in out and "CLIENT_STATUS_COMPLETED_SUCCESSFULLY" in out
    assert "anchor, known grade A" in out and "reliability: honest estimate" in out
    samples = json.loads((ROOT / "stack" / "sample_essays.json").read_text(encoding="utf-8"))
    students = sorted(e["name"] for e in samples["essays"])
    rows = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit() and line.endswith("student")]
    ranked = [" ".join(row[1:3]) for row in rows]
    assert sorted(ranked) == students, "the table shows the essays' names"
    assert ranked.index("Clara Ödman") < ranked.index("Alva Lindqvist"), "the judge's verdicts are plausible"
    html = report.read_text(encoding="utf-8")
    assert "<svg" in html and "shaded bands are the grades" in html and '<td class="name">Clara Ödman</td>' in html
    assert html.count("<details>") == len(samples["essays"]) + len(samples["anchors"]), "judgements per essay"


def test_all_in_one_process_serves_every_service(tmp_path):
    from stack.processes import ServerProcess
    from tests.helpers import wait_for

    env = {
        "CJ_PORT": "0",
        "LPS_PORT": "0",
        "RAS_PORT": "0",
        "CJ_METRICS_PORT": "-1",
        "LPS_METRICS_PORT": "-1",
        "RAS_METRICS_PORT": "-1",
        "CJ_DATABASE_URL": f"sqlite:///{tmp_path / 'cj.db'}",
        "LPS_DATABASE_URL": f"sqlite:///{tmp_path / 'lps.db'}",
        "RAS_DATABASE_URL": f"sqlite:///{tmp_path / 'ras.db'}",
    }
    process = ServerProcess("stack", env, cwd=tmp_path).start()
    try:
        assert wait_for(lambda: sum(m.get("message") == "serving" for m in process.log_messages()) == 3)
        servers = {m["server"] for m in process.log_messages() if m.get("message") == "serving"}
        assert servers == {"cj_server", "llm_provider_server", "ras_server"}
    finally:
        assert process.stop() == 0


def test_all_in_one_process_wires_cj_to_its_neighbours(monkeypatch):
    from cj_server.settings import CjSettings
    from llm_provider_server.settings import LpsSettings
    from ras_server.settings import RasSettings
    from stack.__main__ import wired

    for name in ("CJ_LPS_TARGET", "CJ_RAS_TARGET"):
        monkeypatch.delenv(name, raising=False)
    cj = wired(CjSettings(), LpsSettings(port=6100), RasSettings(port=6101))
    assert (cj.lps_target, cj.ras_target) == ("127.0.0.1:6100", "127.0.0.1:6101")
    monkeypatch.setenv("CJ_RAS_TARGET", "ras.example:443")
    assert wired(CjSettings(), LpsSettings(port=6100), RasSettings(port=6101)).ras_target == "ras.example:443"

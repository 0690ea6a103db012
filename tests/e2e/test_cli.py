"""The command-line client against the three servers as real processes, as a teacher or
operator would use it: submit from a folder and a CSV, follow, fetch JSON and CSV, batch
status from the result aggregator, LPS batch jobs, and clear errors for bad input."""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import subprocess
import sys

import pytest

from stack.processes import stack_envs, start_stack, stop_stack
from tests.helpers import ROOT

SAMPLES = json.loads((ROOT / "stack" / "sample_essays.json").read_text())


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("stack")
    lps = {
        "LPS_MOCK_MODE": "essay_features",
        "LPS_MOCK_LATENCY_SCALE": "0.02",
        "LPS_MOCK_BATCH_VALIDATING_SECONDS": "0.1",
        "LPS_MOCK_BATCH_PROCESSING_SECONDS": "0.3",
        "LPS_MOCK_BATCH_FINALIZING_SECONDS": "0.1",
        "LPS_BATCH_POLL_INTERVAL_SECONDS": "0.1",
    }
    processes = start_stack(workdir, stack_envs(workdir, lps))
    yield {module: process.target for module, process in processes.items()}
    assert stop_stack(processes) == {"cj_server": 0, "ras_server": 0, "llm_provider_server": 0}


@pytest.fixture(scope="module")
def class_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    names = ["Åsa Öberg", "Søren Ødegaard", "张伟", *(e["id"] for e in SAMPLES["essays"][3:5])]
    for name, essay in zip(names, SAMPLES["essays"][:5], strict=True):
        (root / "essays" / f"{name}.txt").parent.mkdir(exist_ok=True)
        (root / "essays" / f"{name}.txt").write_text(essay["text"])
    for anchor in SAMPLES["anchors"]:
        if anchor["grade"] in {"A", "C", "F"}:
            (root / "anchors" / anchor["grade"]).mkdir(parents=True, exist_ok=True)
            (root / "anchors" / anchor["grade"] / f"{anchor['id']}.txt").write_text(anchor["text"])
    return root


def huleedu(servers, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    targets = ["--cj", servers["cj_server"], "--lps", servers["llm_provider_server"], "--ras", servers["ras_server"]]
    return subprocess.run(
        [sys.executable, "-m", "huleedu_cli", *targets, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout


def test_submit_a_folder_follow_it_and_read_the_batch_in_the_aggregator(servers, class_folder, tmp_path):
    assert "letter_a_to_f" in ok(huleedu(servers, "grade-scales"))
    out_csv = tmp_path / "results.csv"
    submit_args = [
        "submit",
        str(class_folder / "essays"),
        "--anchors",
        str(class_folder / "anchors"),
        "--grade-scale",
        "letter_a_to_f",
        "--instructions",
        SAMPLES["instructions"],
        "--batch-id",
        "class-9a",
        "--owner",
        "teacher-1",
        "--budget",
        "40",
    ]
    submitted = huleedu(servers, *submit_args, "--follow", "--format", "csv", "--output", str(out_csv))
    assert ok(submitted) == "", "with --output nothing goes to standard output"
    name = re.search(r"^(assessments/\S+): 5 essays", submitted.stderr, re.MULTILINE).group(1)
    assert "registered batch class-9a for teacher-1" in submitted.stderr
    assert "judged" in submitted.stderr, "progress is shown while following"

    raw = out_csv.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8), "a spreadsheet reads the file as UTF-8"
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert {r["essay_name"] for r in rows if r["is_anchor"] == "false"} == {"Åsa Öberg", "Søren Ødegaard", "张伟"} | {
        e["id"] for e in SAMPLES["essays"][3:5]
    }
    assert {r["essay_id"] for r in rows if r["essay_name"] == "张伟"} == {"Zhang_Wei"}
    # The honest estimate leads; with five students it may be low (even 0: too few held-out probes).
    assert len({r["reliability"] for r in rows}) == 1 and 0 <= float(rows[0]["reliability"]) <= 1
    assert rows[0]["reliability_measure"] == "honest estimate"
    assert len(rows) == 8 and {r["essay_id"] for r in rows if r["is_anchor"] == "true"} == {
        a["id"] for a in SAMPLES["anchors"] if a["grade"] in {"A", "C", "F"}
    }
    assert [int(r["rank"]) for r in rows] == list(range(1, 9))
    assert all(float(r["ci95_low"]) < float(r["score"]) < float(r["ci95_high"]) for r in rows)
    assert {"p_A", "p_F"} <= set(rows[0]) and all(r["grade"] in "ABCDEF" for r in rows)

    result = json.loads(ok(huleedu(servers, "result", name, "--format", "json")))
    assert result["assessment"] == name and len(result["essay_results"]) == 8
    assert 0 < result["reliability"]["split_half_reliability"] <= 1
    assert "Søren Ødegaard" in {e["essay_name"] for e in result["essay_results"]}
    table = ok(huleedu(servers, "result", name.split("/")[1]))
    assert "reliability: honest estimate" in table and "Åsa Öberg" in table

    page = tmp_path / "report.html"
    assert ok(huleedu(servers, "report", name, "-o", str(page))) == ""
    html = page.read_text(encoding="utf-8")
    assert '<td class="name">Søren Ødegaard</td>' in html and "<svg" in html and "<details>" in html
    assert "Letter grades F-A (letter_a_to_f)" in html

    again = huleedu(servers, *submit_args)
    assert ok(again).strip() == name, "the same essays and options return the first assessment"

    watched = ok(huleedu(servers, "batch-status", "class-9a", "--watch"))
    assert "completed_successfully" in watched and "5/5 essays complete" in watched
    status = json.loads(ok(huleedu(servers, "batch-status", "class-9a", "--json")))
    assert status["cj_assessment"] == name and status["owner"] == "teacher-1"
    listed = ok(huleedu(servers, "batches", "--owner", "teacher-1"))
    assert "class-9a" in listed
    assert name in ok(huleedu(servers, "list", "--state", "succeeded"))
    assert "succeeded" in ok(huleedu(servers, "status", name))


def test_csv_submission_through_a_provider_batch_job(servers, tmp_path):
    table = tmp_path / "class.csv"
    with table.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["essay_id", "text", "grade"])
        for essay in SAMPLES["essays"][5:]:
            writer.writerow([essay["id"], essay["text"], ""])
        for anchor in SAMPLES["anchors"][::2]:
            writer.writerow([anchor["id"], anchor["text"], anchor["grade"]])
    name = ok(
        huleedu(servers, "submit", str(table), "--grade-scale", "letter_a_to_f", "--batching", "batch_api")
    ).strip()
    followed = ok(huleedu(servers, "follow", name, "--judgements"))
    assert "reliability: honest estimate" in followed
    jobs = ok(huleedu(servers, "batch-jobs", "--state", "completed"))
    assert "batchJobs/" in jobs and "completed" in jobs
    job_name = jobs.split()[0]
    job = json.loads(ok(huleedu(servers, "batch-job", job_name, "--json")))
    assert job["state"] == "STATE_COMPLETED" and job["request_counts"]["succeeded"] > 0


def test_cancel_stops_a_running_assessment(servers, tmp_path):
    # Sixty essays and a budget of 1,200 judgements keep the assessment running for a while.
    folder = tmp_path / "big-class"
    folder.mkdir()
    for i in range(60):
        (folder / f"s{i:02d}.txt").write_text(f"Essay {i}: " + "phones distract, " * (i % 7 + 1) + "so ban them.")
    name = ok(huleedu(servers, "submit", str(folder), "--request-id", "to-cancel", "--budget", "1200")).strip()
    assert "cancelled" in ok(huleedu(servers, "cancel", name))
    assert "cancelled" in ok(huleedu(servers, "status", name))
    again = huleedu(servers, "cancel", name)
    assert again.returncode == 2 and "FAILED_PRECONDITION" in again.stderr, "an ended assessment cannot be cancelled"


def test_bad_input_gets_a_clear_error_and_exit_code_2(servers, tmp_path):
    (tmp_path / "empty").mkdir()
    empty = huleedu(servers, "submit", str(tmp_path / "empty"))
    assert empty.returncode == 2 and "no essays found" in empty.stderr

    duplicated = tmp_path / "dup.csv"
    duplicated.write_text("essay_id,text\nx,One essay.\nx,Another essay.\ny,A third.\n")
    clash = huleedu(servers, "submit", str(duplicated))
    assert (
        clash.returncode == 2 and "line 2 ('x') and" in clash.stderr and "both become the essay id 'x'" in clash.stderr
    )

    single = tmp_path / "single.csv"
    single.write_text("essay_id,text\nx,One essay.\n")
    refused = huleedu(servers, "submit", str(single))
    assert refused.returncode == 2 and "INVALID_ARGUMENT" in refused.stderr
    assert "\n  essays: " in refused.stderr, "the field violation is shown"

    missing = huleedu(servers, "result", "assessments/does-not-exist")
    assert missing.returncode == 2 and "NOT_FOUND" in missing.stderr

    unknown_scale = huleedu(servers, "submit", str(duplicated.parent / "empty"), "--grade-scale", "x")
    assert unknown_scale.returncode == 2


def test_an_unreachable_server_is_a_transient_error(tmp_path):
    (tmp_path / "e.txt").write_text("An essay.")
    result = subprocess.run(
        [sys.executable, "-m", "huleedu_cli", "--cj", "127.0.0.1:1", "--timeout", "2", "list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and "UNAVAILABLE" in result.stderr


def test_submit_follow_json_prints_only_the_json_document(servers, class_folder):
    followed = huleedu(
        servers,
        "submit",
        str(class_folder / "essays"),
        "--budget",
        "16",
        "--request-id",
        "json-only",
        "--follow",
        "--format",
        "json",
    )
    document = json.loads(ok(followed))
    assert document["assessment"].startswith("assessments/") and len(document["essay_results"]) == 5
    assert followed.stderr.count("assessments/") >= 1, "the name goes to standard error"
    again = huleedu(servers, "submit", str(class_folder / "essays"), "--budget", "16", "--request-id", "json-only")
    assert ok(again).strip() == document["assessment"], "without --follow, standard output is the name alone"
    as_json = huleedu(
        servers,
        "submit",
        str(class_folder / "essays"),
        "--budget",
        "16",
        "--request-id",
        "json-only",
        "--format",
        "json",
    )
    assert json.loads(ok(as_json))["name"] == document["assessment"]


def test_environment_variables_are_checked_with_a_clear_message():
    for variable, value, message in [
        ("HULEEDU_TIMEOUT", "abc", "HULEEDU_TIMEOUT='abc': expected a number of seconds"),
        ("HULEEDU_TIMEOUT", "-1", "HULEEDU_TIMEOUT='-1': the timeout must be a positive number"),
        ("HULEEDU_CJ_TARGET", "localhost", "HULEEDU_CJ_TARGET='localhost': expected host:port"),
        ("HULEEDU_TOKEN", "two words", "HULEEDU_TOKEN: a bearer token holds no spaces"),
    ]:
        result = subprocess.run(
            [sys.executable, "-m", "huleedu_cli", "list"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, variable: value},
        )
        assert result.returncode == 2 and result.stderr.startswith(f"error: {message}"), result.stderr
        assert "Traceback" not in result.stderr

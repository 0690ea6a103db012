"""Every setting the LPS reads is documented in README's settings tables, with its default."""

from __future__ import annotations

import re
from pathlib import Path

from llm_provider_server.settings import LpsSettings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
ROWS = [line for line in README.splitlines() if line.startswith("| `")]


def test_every_lps_setting_has_a_readme_row():
    documented = {name for row in ROWS for name in re.findall(r"`((?:LPS_)?[A-Z][A-Z0-9_]+)`", row.split("|")[1])}
    missing = []
    for name, field in LpsSettings.model_fields.items():
        aliases = {f"LPS_{name.upper()}"}
        choices = getattr(field.validation_alias, "choices", None)
        if choices:
            aliases |= {str(choice) for choice in choices}
        if not aliases & documented:
            missing.append(f"LPS_{name.upper()}")
    assert not missing, f"settings without a README row: {missing}"


def test_queue_defaults_in_readme_match_the_code():
    settings = LpsSettings()
    row = next(r for r in ROWS if "`LPS_MAX_CONCURRENCY_PER_MODEL`" in r)
    assert f"{settings.max_in_flight} / {settings.max_concurrency_per_model}" in row
    row = next(r for r in ROWS if r.startswith("| `LPS_CLAIM_LEASE_SECONDS`"))
    assert f"| {settings.claim_lease_seconds:g} |" in row

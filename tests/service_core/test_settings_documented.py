"""Every setting a server reads is documented in README's settings tables.

README is read when the test runs (not copied here), so a setting added to any settings class
without a README row fails this test. Table cells name variables in backticks; three shorthands
are understood: `A` / `B` (two variables), `X` (or `Y`) (an alias), and `STEM_ONE`, `_TWO` (a
suffix completing the stem of the name before it in the same cell).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cj_server.settings import CjSettings
from llm_provider_server.settings import LpsSettings
from ras_server.settings import RasSettings
from service_core.settings import ServerSettings

README = Path(__file__).resolve().parents[2] / "README.md"
SERVER_CLASSES = [CjSettings, LpsSettings, RasSettings]
NAME = re.compile(r"`([A-Z_][A-Z0-9_]*)`")


def _documented() -> tuple[set[str], list[tuple[str, str]]]:
    """Variable names in README's table rows, and (full name, suffix) pairs of shorthands."""
    names: set[str] = set()
    shorthands: list[tuple[str, str]] = []
    for line in README.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            continue
        first_cell = line.strip("|").split("|")[0]
        previous = ""
        for name in NAME.findall(first_cell):
            if name.startswith("_") and previous:
                shorthands.append((previous, name))
            else:
                names.add(name)
                previous = name
    return names, shorthands


def _is_documented(variable: str, names: set[str], shorthands: list[tuple[str, str]]) -> bool:
    if variable in names:
        return True
    return any(
        variable.endswith(suffix) and full.startswith(variable[: -len(suffix)] + "_") for full, suffix in shorthands
    )


def _env_names(cls: type[ServerSettings], field: str) -> list[str]:
    prefix = str(cls.model_config.get("env_prefix", ""))
    return [f"{prefix}{field}".upper()]


def test_readme_has_settings_tables():
    names, _ = _documented()
    assert {"LPS_PORT", "CJ_LPS_TARGET", "RAS_WATCH_POLL_SECONDS"} <= names


@pytest.mark.parametrize("cls", SERVER_CLASSES, ids=lambda c: c.__name__)
def test_every_setting_of_each_server_is_in_readme(cls):
    names, shorthands = _documented()
    own = [field for field in cls.model_fields if field not in ServerSettings.model_fields]
    missing = [env for field in own for env in _env_names(cls, field) if not _is_documented(env, names, shorthands)]
    assert not missing, f"add a README settings row for: {', '.join(missing)}"


def test_every_common_setting_is_in_readme_under_one_prefix():
    names, shorthands = _documented()
    missing = [
        field.upper()
        for field in ServerSettings.model_fields
        if not any(_is_documented(env, names, shorthands) for cls in SERVER_CLASSES for env in _env_names(cls, field))
    ]
    assert not missing, f"add a README row (common settings table) for: {', '.join(missing)}"


def test_the_shorthand_reader_is_not_fooled():
    names = {"LPS_MOCK_BATCH_VALIDATING_SECONDS"}
    shorthands = [("LPS_MOCK_BATCH_VALIDATING_SECONDS", "_PROCESSING_SECONDS")]
    assert _is_documented("LPS_MOCK_BATCH_PROCESSING_SECONDS", names, shorthands)
    assert not _is_documented("LPS_OTHER_PROCESSING_SECONDS", names, shorthands)
    assert not _is_documented("LPS_MOCK_BATCH_UNDOCUMENTED", names, shorthands)

"""The client's settings: every HULEEDU_* variable is checked, and a bad one is named in the message."""

from __future__ import annotations

import pytest

from huleedu_cli.__main__ import parse
from huleedu_cli.client import ClientSettings, SettingsError


def test_defaults_and_good_values_from_the_environment():
    assert ClientSettings.from_env({}) == ClientSettings()
    settings = ClientSettings.from_env(
        {
            "HULEEDU_CJ_TARGET": "cj.school.example:443",
            "HULEEDU_LPS_TARGET": "[::1]:50052",
            "HULEEDU_RAS_TARGET": "dns:///ras.internal:50053",
            "HULEEDU_TOKEN": "s3cr3t-token",
            "HULEEDU_TIMEOUT": "2.5",
        }
    )
    assert (settings.cj_target, settings.lps_target, settings.ras_target) == (
        "cj.school.example:443",
        "[::1]:50052",
        "dns:///ras.internal:50053",
    )
    assert (settings.token, settings.timeout) == ("s3cr3t-token", 2.5)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("HULEEDU_TIMEOUT", "abc", "HULEEDU_TIMEOUT='abc': expected a number of seconds"),
        ("HULEEDU_TIMEOUT", "0", "must be a positive number"),
        ("HULEEDU_TIMEOUT", "inf", "must be a positive number"),
        ("HULEEDU_CJ_TARGET", "localhost", "HULEEDU_CJ_TARGET='localhost': expected host:port"),
        ("HULEEDU_RAS_TARGET", "host:99999", "HULEEDU_RAS_TARGET='host:99999'"),
        ("HULEEDU_TOKEN", "a b", "HULEEDU_TOKEN: a bearer token holds no spaces"),
    ],
)
def test_a_bad_variable_is_named_with_what_is_expected(variable, value, message):
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace("?", r"\?")):
        ClientSettings.from_env({variable: value})


def test_command_line_options_are_checked_the_same_way(monkeypatch):
    for name in ("HULEEDU_TIMEOUT", "HULEEDU_CJ_TARGET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SettingsError, match="--timeout='soon'"):
        parse(["--timeout", "soon", "list"])
    args, settings = parse(["--cj", "127.0.0.1:6000", "--timeout", "5", "list"])
    assert (settings.cj_target, settings.timeout, args.command) == ("127.0.0.1:6000", 5.0, "list")

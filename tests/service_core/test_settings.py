"""Settings are read from prefixed environment variables, once, and validated."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cj_server.settings import CjSettings
from llm_provider_server.settings import LpsSettings, MockMode, QueueProcessingMode
from ras_server.settings import RasSettings
from service_core.settings import ServerSettings


def test_each_server_reads_its_own_prefix(monkeypatch):
    monkeypatch.setenv("CJ_PORT", "6001")
    monkeypatch.setenv("LPS_PORT", "6002")
    monkeypatch.setenv("RAS_PORT", "6003")
    monkeypatch.setenv("LPS_MOCK_MODE", "eng5_lower5_gpt51_low")
    monkeypatch.setenv("LPS_QUEUE_PROCESSING_MODE", "serial_bundle")
    assert (CjSettings().port, LpsSettings().port, RasSettings().port) == (6001, 6002, 6003)
    lps = LpsSettings()
    assert lps.mock_mode is MockMode.ENG5_LOWER5_GPT51_LOW
    assert lps.queue_processing_mode is QueueProcessingMode.SERIAL_BUNDLE


def test_bad_values_fail_loudly(monkeypatch):
    monkeypatch.setenv("LPS_MOCK_MODE", "no_such_profile")
    with pytest.raises(ValidationError, match="mock_mode"):
        LpsSettings()
    with pytest.raises(ValidationError, match="port"):
        ServerSettings(port=70000)
    with pytest.raises(ValidationError, match="log level"):
        ServerSettings(log_level="chatty")


def test_token_table_names_callers_and_hides_secrets():
    settings = ServerSettings(auth_tokens="cj:alpha, dashboard:beta,gamma")
    assert settings.token_table() == {"alpha": "cj", "beta": "dashboard", "gamma": "client-3"}
    assert "alpha" not in repr(settings)
    assert ServerSettings().token_table() == {}


def test_grpc_options_keep_reuseport_off_by_default():
    options = dict(ServerSettings().grpc_options())
    assert options["grpc.so_reuseport"] == 0
    assert options["grpc.max_receive_message_length"] == 16 * 1024 * 1024
    assert dict(ServerSettings(so_reuseport=True).grpc_options())["grpc.so_reuseport"] == 1


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (":tok", "entry 1 has an empty caller name"),
        ("cj:alpha, :tok", "entry 2 has an empty caller name"),
        ("cj:", "entry 1 (caller 'cj') has an empty token"),
        ("cj:alpha,,dashboard:beta", "entry 2 is empty"),
        ("cj:alpha,", "entry 2 is empty"),
        ("cj:alpha,dashboard:alpha", "repeats the token of caller 'cj'"),
    ],
)
def test_malformed_auth_tokens_are_refused_at_start_naming_the_variable(monkeypatch, value, problem):
    monkeypatch.setenv("RAS_AUTH_TOKENS", value)
    with pytest.raises(ValidationError) as raised:
        RasSettings()
    message = str(raised.value)
    assert "RAS_AUTH_TOKENS" in message and problem in message
    assert "alpha" not in message.replace("'cj'", "") and "tok" not in message.replace("token", "")


def test_each_server_names_its_own_token_variable(monkeypatch):
    monkeypatch.setenv("LPS_AUTH_TOKENS", "cj:")
    with pytest.raises(ValidationError, match="LPS_AUTH_TOKENS"):
        LpsSettings()
    with pytest.raises(ValidationError, match="CJ_AUTH_TOKENS"):
        CjSettings(auth_tokens=":x")

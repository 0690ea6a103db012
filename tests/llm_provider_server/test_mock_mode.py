"""GetMockMode reports the settings object the server runs with."""

from __future__ import annotations

import grpc
import pytest
from huleedu.llm.v1 import comparison_pb2
from huleedu.llm.v1 import llm_provider_service_pb2 as pb
from huleedu.llm.v1 import llm_provider_service_pb2_grpc as pb_grpc

from llm_provider_server.app import build_server
from llm_provider_server.settings import LpsSettings
from tests.helpers import running

SEED_PROFILES = ["cj_generic_batch", "eng5_anchor_gpt51_low", "eng5_lower5_gpt51_low"]


async def mock_mode_of(settings: LpsSettings) -> pb.GetMockModeResponse:
    async with (
        running(build_server(settings)) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        return await pb_grpc.LlmProviderServiceStub(channel).GetMockMode(pb.GetMockModeRequest(), timeout=5)


def lps_settings(tmp_path, **overrides) -> LpsSettings:
    return LpsSettings(port=0, metrics_port=-1, database_url=f"sqlite:///{tmp_path / 'lps.db'}", **overrides)


@pytest.mark.parametrize("profile", SEED_PROFILES)
async def test_each_seed_profile_is_reported(tmp_path, profile):
    response = await mock_mode_of(lps_settings(tmp_path, use_mock_llm=True, mock_mode=profile))
    assert response.use_mock_llm is True
    assert response.mock_mode == profile
    assert response.default_provider == comparison_pb2.PROVIDER_MOCK


async def test_mock_off_reports_the_real_default_provider(tmp_path):
    response = await mock_mode_of(
        lps_settings(tmp_path, use_mock_llm=False, default_provider="anthropic", queue_processing_mode="batch_api")
    )
    assert response.use_mock_llm is False
    assert response.default_provider == comparison_pb2.PROVIDER_ANTHROPIC
    assert response.queue_processing_mode == comparison_pb2.PROCESSING_MODE_BATCH_API


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("per_request", comparison_pb2.PROCESSING_MODE_PER_REQUEST),
        ("serial_bundle", comparison_pb2.PROCESSING_MODE_SERIAL_BUNDLE),
        ("batch_api", comparison_pb2.PROCESSING_MODE_BATCH_API),
    ],
)
async def test_queue_processing_mode_is_reported(tmp_path, mode, expected):
    response = await mock_mode_of(lps_settings(tmp_path, queue_processing_mode=mode))
    assert response.queue_processing_mode == expected


async def test_reports_running_settings_not_the_environment(tmp_path, monkeypatch):
    settings = lps_settings(tmp_path, mock_mode="cj_generic_batch")
    monkeypatch.setenv("LPS_MOCK_MODE", "eng5_anchor_gpt51_low")
    monkeypatch.setenv("LPS_USE_MOCK_LLM", "false")
    response = await mock_mode_of(settings)
    assert (response.use_mock_llm, response.mock_mode) == (True, "cj_generic_batch")

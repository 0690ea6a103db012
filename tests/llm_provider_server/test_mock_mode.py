"""GetMockMode reports the settings object the server runs with, and the whole mock judge."""

from __future__ import annotations

import grpc
import pytest
from huleedu.llm.v1 import comparison_pb2
from huleedu.llm.v1 import llm_provider_service_pb2 as pb
from huleedu.llm.v1 import llm_provider_service_pb2_grpc as pb_grpc

from llm_provider_server.app import build_server
from llm_provider_server.domain.mock_judge import latent_winner
from llm_provider_server.settings import LpsSettings
from tests.helpers import running
from tests.llm_provider_server.harness import comparison, lps

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


async def test_latent_bt_judge_is_reported_whole(tmp_path):
    settings = lps_settings(
        tmp_path,
        mock_mode="latent_bt",
        mock_seed="seed-7",
        mock_latent_sigma=1.25,
        mock_latent_bias=-0.4,
        mock_latency_scale=0.5,
        mock_error_rate=0.1,
        mock_error_codes="429,529",
    )
    judge = (await mock_mode_of(settings)).judge
    assert (judge.profile, judge.seed) == ("latent_bt", "seed-7")
    assert (judge.latent_sigma, judge.latent_bias) == (1.25, -0.4)
    assert judge.latency_scale == 0.5 and judge.error_rate == pytest.approx(0.1)
    assert list(judge.error_codes) == [429, 529]


async def test_a_client_recomputes_latent_bt_verdicts_from_the_api_alone(tmp_path):
    """The judge GetMockMode reports is the one that answers: a client that knows only the
    response predicts every winner."""
    async with lps(
        f"sqlite:///{tmp_path / 'lps.db'}", mock_mode="latent_bt", mock_seed="s9", mock_latent_sigma=3.0
    ) as h:
        judge = (await h.stub.GetMockMode(pb.GetMockModeRequest(), timeout=5)).judge
        pairs = [(f"Essay number {i}.", f"Another essay {i * 7}.") for i in range(20)]
        await h.submit(*(comparison(f"p{i}", a=a, b=b) for i, (a, b) in enumerate(pairs)))
        results = {r.request_id: r for r in await h.collect(20)}
    for i, (a, b) in enumerate(pairs):
        expected, _ = latent_winner(a, b, sigma=judge.latent_sigma, bias=judge.latent_bias, seed=judge.seed)
        won = comparison_pb2.WINNER_ESSAY_A if expected.value == "essay_a" else comparison_pb2.WINNER_ESSAY_B
        assert results[f"p{i}"].winner == won


@pytest.mark.parametrize(
    ("profile", "overrides", "latency"),
    [
        ("eng5_anchor_gpt51_low", {}, (1200, 800)),
        ("eng5_lower5_gpt51_low", {"mock_latency_scale": 0.1}, (1000, 1000)),
        ("cj_generic_batch", {"mock_latency_ms": 30, "mock_latency_jitter_ms": 5}, (30, 5)),
        ("default", {}, (0, 0)),
    ],
)
async def test_every_profile_reports_its_latency_and_error_injection(tmp_path, profile, overrides, latency):
    judge = (await mock_mode_of(lps_settings(tmp_path, mock_mode=profile, **overrides))).judge
    assert judge.profile == profile
    assert (judge.latency_base_ms, judge.latency_jitter_ms) == latency
    assert judge.latency_scale == overrides.get("mock_latency_scale", 1.0)
    assert judge.error_rate == 0.0 and list(judge.error_codes) == [429, 503, 500]

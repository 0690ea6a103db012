"""Any OpenAI-compatible server (vLLM, Ollama, llama.cpp): models declared in settings or in a
manifest file named by a setting, prices defaulting to 0, against a loopback server that
speaks the OpenAI chat format and rejects model names it does not serve."""

from __future__ import annotations

import json

import grpc
import pytest
from google.rpc import error_details_pb2
from huleedu.llm.v1 import comparison_pb2
from huleedu.llm.v1 import llm_provider_service_pb2 as pb

from llm_provider_server.settings import LpsSettings
from tests.llm_provider_server.fake_vendors import FakeVendors
from tests.llm_provider_server.harness import comparison, lps

R = comparison_pb2.ComparisonResult
OPENAI = comparison_pb2.PROVIDER_OPENAI
LOCAL = "llama3.1:8b-instruct-q4_K_M"


@pytest.fixture
def local_server():
    fake = FakeVendors().start()
    fake.models = {LOCAL, "qwen2.5:7b"}
    yield fake
    fake.stop()


def local(server: FakeVendors, **overrides) -> dict:
    return {
        "use_mock_llm": False,
        "openai_base_url": f"{server.url}/v1",  # no key: a local server needs none
        "default_provider": "openai",
        **overrides,
    }


def reason(result: R) -> str:
    info = error_details_pb2.ErrorInfo()
    result.error.details[0].Unpack(info)
    return info.reason


async def test_a_model_declared_in_settings_runs_at_price_zero(tmp_path, local_server):
    declared = json.dumps([{"provider": "openai", "model_id": LOCAL}])
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **local(local_server, models=declared)) as h:
        await h.submit(comparison("l1", overrides=comparison_pb2.LlmOverrides(provider=OPENAI, model=LOCAL)))
        [result] = await h.collect(1)
        listed = await h.stub.ListModels(pb.ListModelsRequest(provider=OPENAI))
    assert result.outcome == R.OUTCOME_SUCCEEDED and result.model == LOCAL
    assert result.usage.prompt_tokens > 0 and result.cost_usd == 0.0
    assert local_server.bodies[-1]["model"] == LOCAL
    [entry] = [m for m in listed.models if m.model_id == LOCAL]
    assert entry.input_usd_per_million_tokens == 0.0 and not entry.supports_batch_api and entry.display_name == LOCAL


async def test_a_manifest_file_declares_models_with_prices_and_a_default(tmp_path, local_server):
    manifest = tmp_path / "models.json"
    manifest.write_text(
        json.dumps(
            {
                "models": [
                    {"provider": "openai", "model_id": "qwen2.5:7b", "default": True, "input_per_million": 0.1},
                    {"provider": "openai", "model_id": LOCAL, "output_per_million": 0.2},
                ]
            }
        )
    )
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **local(local_server, models_file=str(manifest))) as h:
        await h.submit(comparison("d1"))  # no model named: the declared default
        [result] = await h.collect(1)
        listed = await h.stub.ListModels(pb.ListModelsRequest(provider=OPENAI))
    assert result.outcome == R.OUTCOME_SUCCEEDED and result.model == "qwen2.5:7b"
    uncached = result.usage.prompt_tokens - result.usage.cache_read_tokens  # cache reads are priced 0 here
    assert result.cost_usd == pytest.approx(uncached * 0.1 / 1e6)
    defaults = [m.model_id for m in listed.models if m.is_default]
    assert defaults == ["qwen2.5:7b"], "the declared default replaces the built-in one"


async def test_a_model_the_server_does_not_serve_is_refused_by_it(tmp_path, local_server):
    declared = json.dumps([{"provider": "openai", "model_id": "mistral:7b"}])
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **local(local_server, models=declared)) as h:
        await h.submit(comparison("u1", overrides=comparison_pb2.LlmOverrides(provider=OPENAI, model="mistral:7b")))
        [result] = await h.collect(1)
    assert result.outcome == R.OUTCOME_FAILED and reason(result) == "PROVIDER_REJECTED" and result.attempts == 1
    assert "HTTP 404 model_not_found" in result.error.message


async def test_an_undeclared_model_is_an_invalid_argument(tmp_path, local_server):
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **local(local_server)) as h:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await h.submit(comparison("x1", overrides=comparison_pb2.LlmOverrides(provider=OPENAI, model=LOCAL)))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert h.sample("llm_provider_rejected_total", {"reason": "INVALID_ARGUMENT"}) == 1


@pytest.mark.parametrize(
    ("models", "message"),
    [
        ("not json", "LPS_MODELS: not JSON"),
        ('[{"provider": "openai"}]', "model_id must be 1-128 characters"),
        ('[{"provider": "openai", "model_id": "m", "input_per_million": -1}]', "input_per_million must be"),
        ('[{"provider": "openai", "model_id": "m", "price": 1}]', "unknown field(s) price"),
        ('[{"provider": "cohere", "model_id": "m"}]', "provider must be one of"),
    ],
)
def test_bad_model_declarations_are_refused_at_startup(models, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        LpsSettings(models=models)


def test_a_missing_models_file_is_refused_at_startup(tmp_path):
    with pytest.raises(ValueError, match="cannot read the models file"):
        LpsSettings(models_file=str(tmp_path / "absent.json"))

"""domain/validation.py: submitted comparisons and provider verdicts."""

from __future__ import annotations

import pytest

from llm_provider_server.domain.manifest import Manifest
from llm_provider_server.domain.model import ComparisonSpec, Overrides, Provider, TokenUsage, Verdict, Winner
from llm_provider_server.domain.validation import Limits, validate_batch, verdict_problem

MANIFEST = Manifest.load()


def spec(**fields) -> ComparisonSpec:
    return ComparisonSpec(
        **{"request_id": "r1", "essay_a": "First essay.", "essay_b": "Second essay.", "consumer": "cj", **fields}
    )


class TestValidation:
    def check(self, *specs, available=frozenset(Provider)):
        return {
            v.field
            for v in validate_batch(
                list(specs),
                manifest=MANIFEST,
                available=set(available),
                default_provider=Provider.MOCK,
                limits=Limits(max_essay_chars=1000),
            )
        }

    def test_clean_request_passes(self):
        assert self.check(spec()) == set()

    def test_each_problem_is_a_field_violation(self):
        fields = self.check(
            spec(request_id="bad id!", essay_a=" ", essay_b="x" * 1001, consumer="", priority=11, ttl_seconds=-1),
            spec(request_id="r2", overrides=Overrides(provider=Provider.OPENAI, model="gpt-nope")),
            spec(request_id="r3", overrides=Overrides(provider=Provider.MOCK, temperature=2.5, max_tokens=0)),
            spec(request_id="r4", overrides=Overrides(provider=Provider.OPENAI, model="gpt-5.1", temperature=0.2)),
            spec(request_id="r3"),
        )
        assert fields == {
            "requests[0].request_id",
            "requests[0].essay_a_text",
            "requests[0].essay_b_text",
            "requests[0].consumer",
            "requests[0].priority",
            "requests[0].ttl",
            "requests[1].overrides.model",
            "requests[2].overrides.temperature",
            "requests[2].overrides.max_tokens",
            "requests[3].overrides.temperature",
            "requests[4].request_id",
        }

    def test_unconfigured_provider_is_rejected(self):
        assert self.check(spec(overrides=Overrides(provider=Provider.ANTHROPIC)), available={Provider.MOCK}) == {
            "requests[0].overrides.provider"
        }

    def test_temperature_zero_is_kept(self):
        assert self.check(spec(overrides=Overrides(provider=Provider.MOCK, temperature=0.0))) == set()


class TestVerdictShape:
    good = Verdict(Winner.ESSAY_A, 4.0, "Fuller.", TokenUsage(10, 5), "m")

    def with_(self, **fields) -> Verdict:
        verdict = Verdict(**{**self.good.__dict__})
        for name, value in fields.items():
            object.__setattr__(verdict, name, value)
        return verdict

    def test_a_well_formed_verdict_passes(self):
        assert verdict_problem(self.good) is None

    @pytest.mark.parametrize(
        "fields",
        [
            {"winner": ["Essay A"]},
            {"winner": "Essay A"},
            {"confidence": "high"},
            {"confidence": True},
            {"confidence": 0.5},
            {"justification": None},
            {"model": 3},
            {"usage": "lots"},
            {"usage": {"prompt_tokens": 1}},
            {"usage": TokenUsage(-1, 0)},
            {"usage": TokenUsage(1.5, 0)},
        ],
    )
    def test_each_wrong_shape_is_named(self, fields):
        assert verdict_problem(self.with_(**fields))

    @pytest.mark.parametrize("reply", [None, {}, [], "Essay A"])
    def test_a_reply_that_is_no_verdict_is_named(self, reply):
        assert verdict_problem(reply)

"""domain/mock_judge.py: the mock judge's profiles."""

from __future__ import annotations

import hashlib
import math
from statistics import NormalDist

import pytest

from llm_provider_server.domain import mock_judge
from llm_provider_server.domain.model import Winner


class TestMockJudge:
    @pytest.mark.parametrize(
        ("profile", "rule"),
        [
            ("cj_generic_batch", lambda v: True),
            ("eng5_anchor_gpt51_low", lambda v: v % 66 < 35),
            ("eng5_lower5_gpt51_low", lambda v: v % 10 < 4),
            ("default", lambda v: v % 2 == 0),
        ],
    )
    def test_winner_rules_follow_the_prompt_hash(self, profile, rule):
        config = mock_judge.MockConfig(profile=profile, latency_scale=0)
        for i in range(200):
            sha = hashlib.sha256(f"prompt {i}".encode()).hexdigest()
            call = mock_judge.judge(
                config,
                prompt_text="a b c",
                prompt_sha256=sha,
                essay_a="a",
                essay_b="b",
                request_id=f"r{i}",
                attempt=1,
                model="mock-judge-v1",
            )
            expected = Winner.ESSAY_A if rule(int(sha[:8], 16)) else Winner.ESSAY_B
            assert call.verdict.winner is expected

    @pytest.mark.parametrize(
        ("profile", "floors", "band_ms"),
        [
            ("cj_generic_batch", (5, 17), (0, 0)),
            ("eng5_anchor_gpt51_low", (1100, 40), (1200, 2000)),
            ("eng5_lower5_gpt51_low", (1000, 30), (1000, 2000)),
        ],
    )
    def test_token_floors_and_latency_band(self, profile, floors, band_ms):
        config = mock_judge.MockConfig(profile=profile)
        for i in range(100):
            call = mock_judge.judge(
                config,
                prompt_text="short prompt",
                prompt_sha256="ab" * 32,
                essay_a="a",
                essay_b="b",
                request_id=f"r{i}",
                attempt=1,
                model="m",
            )
            assert call.verdict.usage.prompt_tokens >= floors[0]
            assert call.verdict.usage.completion_tokens >= floors[1]
            assert band_ms[0] / 1000 <= call.latency_seconds <= band_ms[1] / 1000
            assert 1.0 <= call.verdict.confidence <= 5.0

    def test_latent_bt_matches_its_published_definition(self):
        sigma, bias, seed = 2.0, 0.3, "7"
        for i in range(100):
            a, b = f"essay number {i}", f"essay number {i * 7 + 1}"

            def q(text):
                u = (int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") + 0.5) / 2**64
                return sigma * NormalDist().inv_cdf(u)

            p_a = 1 / (1 + math.exp(-(q(a) - q(b) + bias)))
            w = (int.from_bytes(hashlib.sha256(f"{seed}\0{a}\0{b}".encode()).digest()[:8], "big") + 0.5) / 2**64
            config = mock_judge.MockConfig(profile="latent_bt", seed=seed, latent_sigma=sigma, latent_bias=bias)
            call = mock_judge.judge(
                config,
                prompt_text="x",
                prompt_sha256="00" * 32,
                essay_a=a,
                essay_b=b,
                request_id=f"r{i}",
                attempt=1,
                model="m",
            )
            assert call.verdict.winner is (Winner.ESSAY_A if w < p_a else Winner.ESSAY_B)

    def test_latent_bt_agrees_with_truth_as_sigma_says(self):
        """At sigma = 2 the judge agrees with the hidden order on about 83% of random pairs."""
        texts = [f"essay {i}" for i in range(400)]
        agree = 0
        for a, b in zip(texts[::2], texts[1::2], strict=True):
            winner, _ = mock_judge.latent_winner(a, b, sigma=2.0, bias=0.0, seed="0")
            better_a = mock_judge.latent_quality(a, 2.0) > mock_judge.latent_quality(b, 2.0)
            agree += (winner is Winner.ESSAY_A) == better_a
        assert 0.74 <= agree / 200 <= 0.92

    def test_injected_errors_are_retry_aware(self):
        config = mock_judge.MockConfig(error_rate=0.5, error_codes=(503,))
        first_failures = [
            r
            for r in range(200)
            if mock_judge.judge(
                config,
                prompt_text="x",
                prompt_sha256="00" * 32,
                essay_a="a",
                essay_b="b",
                request_id=f"r{r}",
                attempt=1,
                model="m",
            ).failure
        ]
        assert 60 < len(first_failures) < 140
        recovered = [
            r
            for r in first_failures
            if mock_judge.judge(
                config,
                prompt_text="x",
                prompt_sha256="00" * 32,
                essay_a="a",
                essay_b="b",
                request_id=f"r{r}",
                attempt=2,
                model="m",
            ).verdict
        ]
        assert recovered, "a retry must be able to get past an injected error"
        again = mock_judge.judge(
            config,
            prompt_text="x",
            prompt_sha256="00" * 32,
            essay_a="a",
            essay_b="b",
            request_id=f"r{first_failures[0]}",
            attempt=1,
            model="m",
        )
        assert again.failure is not None and again.failure.retryable


def test_essay_features_judge_prefers_the_fuller_essay():
    weak = "Reading is good. I like books. Books are fun."
    strong = (
        "Reading matters because it builds empathy; for example, a novel lets us see the world through "
        "another person's eyes. Moreover, readers learn to follow long arguments. However, screens compete "
        "for attention, so schools should protect quiet time for reading."
    )
    assert mock_judge.feature_quality(strong) > mock_judge.feature_quality(weak) + 2
    config = mock_judge.MockConfig(profile="essay_features", latency_scale=0)
    wins = sum(
        mock_judge.judge(
            config,
            prompt_text="x",
            prompt_sha256="00" * 32,
            essay_a=strong,
            essay_b=weak + " " * i,
            request_id=f"r{i}",
            attempt=1,
            model="m",
        ).verdict.winner
        is Winner.ESSAY_A
        for i in range(40)
    )
    assert wins >= 36

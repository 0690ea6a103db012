"""LPS pure logic: prompt, mock judge, verdict parsing, validation, resilience, costs, batch simulation."""

from __future__ import annotations

import hashlib
import math
import random
from statistics import NormalDist

import pytest

from llm_provider_server.domain import mock_batch, mock_judge
from llm_provider_server.domain.batch_job import BatchPoll, JobState, RequestCounts, effective_state
from llm_provider_server.domain.bundling import bundle_key
from llm_provider_server.domain.manifest import Manifest
from llm_provider_server.domain.model import ComparisonSpec, Overrides, Provider, ProviderFailure, TokenUsage, Winner
from llm_provider_server.domain.prompt import TEMPLATE_VERSION, render
from llm_provider_server.domain.resilience import BackoffPolicy, BreakerState, CircuitBreaker, RateLimiter
from llm_provider_server.domain.validation import Limits, validate_batch
from llm_provider_server.domain.verdict import parse_verdict

MANIFEST = Manifest.load()


def spec(**fields) -> ComparisonSpec:
    return ComparisonSpec(
        **{"request_id": "r1", "essay_a": "First essay.", "essay_b": "Second essay.", "consumer": "cj", **fields}
    )


class TestPrompt:
    def test_renders_fields_without_ids_and_hashes_what_is_sent(self):
        prompt = render(spec(request_id="ANCHOR_7", student_prompt="Write about trees.", rubric="Be fair."))
        assert "ANCHOR_7" not in prompt.canonical
        assert "## Essay A\nFirst essay." in prompt.user and "## Essay B\nSecond essay." in prompt.user
        assert "## Judge rubric\nBe fair." in prompt.user
        assert prompt.sha256 == hashlib.sha256(prompt.canonical.encode()).hexdigest()
        assert prompt.template_version == TEMPLATE_VERSION

    def test_system_prompt_override_changes_the_hash(self):
        plain, custom = render(spec()), render(spec(overrides=Overrides(system_prompt="Judge harshly.")))
        assert custom.system == "Judge harshly." and plain.sha256 != custom.sha256


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


class TestVerdict:
    usage = TokenUsage(10, 5)

    def test_valid_verdict(self):
        verdict = parse_verdict(
            '{"winner": "Essay B", "justification": "Clearer.", "confidence": 4}', usage=self.usage, model="m"
        )
        assert (verdict.winner, verdict.confidence) == (Winner.ESSAY_B, 4.0)

    @pytest.mark.parametrize(
        "payload",
        [
            None,
            "",
            "not json",
            "[]",
            '{"winner": "B", "justification": "x", "confidence": 3}',
            '{"winner": "Essay A", "justification": "x", "confidence": 0.5}',
            '{"winner": "Essay A", "justification": "", "confidence": 3}',
            '{"winner": "Essay A", "justification": "x", "confidence": true}',
            '{"justification": "x", "confidence": 3}',
        ],
    )
    def test_anything_else_is_an_error_not_essay_a(self, payload):
        with pytest.raises(ProviderFailure) as caught:
            parse_verdict(payload, usage=self.usage, model="m")
        assert caught.value.code == "UNPARSEABLE_VERDICT"


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


class TestResilience:
    def test_backoff_grows_with_jitter_and_honours_retry_after(self):
        policy, rng = BackoffPolicy(base_seconds=1, cap_seconds=8, max_attempts=4), random.Random(1)
        assert all(0 <= policy.delay(1, None, rng) <= 1 for _ in range(50))
        assert all(0 <= policy.delay(5, None, rng) <= 8 for _ in range(50))
        assert policy.delay(1, 30.0, rng) == 30.0
        assert policy.can_retry(3) and not policy.can_retry(4)

    def test_breaker_opens_and_recovers(self):
        breaker = CircuitBreaker(failure_threshold=3, recovery_seconds=10)
        for t in range(3):
            assert breaker.allows(t)
            breaker.record_failure(t)
        assert breaker.state is BreakerState.OPEN and not breaker.allows(5)
        assert breaker.allows(13) and breaker.state is BreakerState.HALF_OPEN
        assert not breaker.allows(13), "one trial call at a time"
        breaker.record_failure(14)
        assert breaker.state is BreakerState.OPEN and not breaker.allows(20)
        assert breaker.allows(25)
        breaker.record_success()
        assert breaker.state is BreakerState.CLOSED and breaker.allows(25)

    def test_rate_limiter_holds_requests_per_minute(self):
        limiter = RateLimiter(per_minute=600, updated_at=0.0)  # 10 a second, a burst of 10
        assert sum(limiter.wait_seconds(0.0) == 0 for _ in range(100)) == 10
        assert limiter.wait_seconds(0.0) == pytest.approx(0.1)
        started = sum(limiter.wait_seconds(t / 100) == 0 for t in range(1, 301))  # three more seconds
        assert 29 <= started <= 30  # 10 a second; the last refill lands on the boundary
        slow = RateLimiter(per_minute=30, updated_at=0.0)
        assert slow.wait_seconds(0.0) == 0 and slow.wait_seconds(0.0) == pytest.approx(2.0)


class TestCostsAndBundles:
    def test_cost_uses_manifest_prices_and_batch_discount(self):
        model = MANIFEST.get(Provider.OPENAI, "gpt-5.1")
        usage = TokenUsage(prompt_tokens=1_000_000, completion_tokens=100_000, cache_read_tokens=200_000)
        sync = model.cost_usd(usage, batch=False)
        assert sync == pytest.approx(0.8 * 1.25 + 0.2 * 0.125 + 0.1 * 10.0)
        assert model.cost_usd(usage, batch=True) == pytest.approx(sync / 2)

    def test_bundle_key_separates_incompatible_requests(self):
        key = bundle_key(spec(), Provider.MOCK, "m")
        assert key == bundle_key(spec(request_id="other", essay_a="different"), Provider.MOCK, "m")
        assert key != bundle_key(spec(overrides=Overrides(temperature=0.1)), Provider.MOCK, "m")
        assert key != bundle_key(spec(), Provider.MOCK, "other-model")


class TestMockBatchLifecycle:
    timing = mock_batch.MockBatchTiming(
        validating_seconds=1, processing_seconds=10, finalizing_seconds=1, window_seconds=100, output_delay_seconds=2
    )

    def at(self, now, cancel_at=None):
        return mock_batch.snapshot(submitted_at=0, count=10, now=now, timing=self.timing, cancel_at=cancel_at)

    def test_states_in_order(self):
        assert [self.at(t).state for t in (0.5, 5, 11.5, 12.5, 14)] == [
            JobState.VALIDATING,
            JobState.IN_PROGRESS,
            JobState.FINALIZING,
            JobState.COMPLETED,
            JobState.COMPLETED,
        ]
        assert self.at(5).items.count(mock_batch.ItemState.DONE) == 4
        assert not self.at(12.5).output_ready and self.at(14).output_ready

    def test_cancel_keeps_finished_items(self):
        snap = self.at(8, cancel_at=6)
        assert snap.state is JobState.CANCELLED
        assert snap.items.count(mock_batch.ItemState.DONE) == 5
        assert snap.items.count(mock_batch.ItemState.CANCELLED) == 5
        assert self.at(6.5, cancel_at=6).state is JobState.CANCELLING

    def test_expiry_keeps_finished_items(self):
        timing = mock_batch.MockBatchTiming(validating_seconds=1, processing_seconds=10, window_seconds=6)
        snap = mock_batch.snapshot(submitted_at=0, count=10, now=7, timing=timing)
        assert snap.state is JobState.EXPIRED
        assert snap.items.count(mock_batch.ItemState.DONE) == 5 and snap.items.count(mock_batch.ItemState.EXPIRED) == 5

    def test_completed_without_output_is_finalizing(self):
        poll = BatchPoll(JobState.COMPLETED, RequestCounts(total=1, succeeded=1), output_ready=False)
        assert effective_state(poll) is JobState.FINALIZING


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

"""The deterministic mock judge and its profiles.

Every number is derived from SHA-256, never from Python's per-process `hash()`,
so two processes give identical verdicts, latencies and errors.

Hash profiles: `v = int(prompt_sha256[:8], 16)` of the rendered prompt.
  default                 Essay A when v is even
  cj_generic_batch        always Essay A; token floors 5 prompt / 17 completion
  eng5_anchor_gpt51_low   Essay A when v % 66 < 35; latency 1200 ms + U(0, 800) ms; floors 1100 / 40
  eng5_lower5_gpt51_low   Essay A when v % 10 < 4;  latency 1000 ms + U(0, 1000) ms; floors 1000 / 30

`latent_bt`, a simulated judge whose truth anyone can recompute:
  u(t) = (int.from_bytes(sha256(t.encode("utf-8")).digest()[:8], "big") + 0.5) / 2**64
  q(t) = sigma * Phi^-1(u(t))
  P(a wins | a shown first, b second) = 1 / (1 + exp(-(q(a) - q(b) + bias)))
  w = (int.from_bytes(sha256(f"{seed}\\0{a}\\0{b}".encode("utf-8")).digest()[:8], "big") + 0.5) / 2**64
  a wins when w < P(a wins). The same ordered pair always gets the same verdict.

`essay_features`, a judge for demonstrations whose verdicts a reader finds plausible: it
prefers the essay with the higher feature score
  f(t) = 2.5 ln(words) + 6 * type-token ratio of the first 50 words + 0.2 * connectives
         per 100 words + 1.2 * mean word length - 0.1 * |mean sentence length - 18|
and decides like latent_bt with q(t) = f(t) in place of sigma * Phi^-1(u(t)) (bias and
seed as there). Longer, more varied, better linked essays win, as a teacher would expect.

Per-call draws (latency jitter, injected errors, confidence jitter) come from
`Random(sha256(f"{seed}\\0{request_id}\\0{attempt}"))`, so a retry (a new attempt)
can get past an injected error while a replay of the same attempt cannot.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist

from llm_provider_server.domain.model import ProviderFailure, TokenUsage, Verdict, Winner

_STANDARD_NORMAL = NormalDist()


def unit_hash(text: str) -> float:
    """A number in (0, 1) from the first 8 bytes of SHA-256(text)."""
    return (int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") + 0.5) / 2**64


def latent_quality(text: str, sigma: float) -> float:
    """q(t) = sigma * Phi^-1(u(t))."""
    return sigma * _STANDARD_NORMAL.inv_cdf(unit_hash(text))


def latent_p_first_wins(essay_a: str, essay_b: str, sigma: float, bias: float) -> float:
    return 1.0 / (1.0 + math.exp(-(latent_quality(essay_a, sigma) - latent_quality(essay_b, sigma) + bias)))


def latent_winner(essay_a: str, essay_b: str, *, sigma: float, bias: float, seed: str) -> tuple[Winner, float]:
    p_a = latent_p_first_wins(essay_a, essay_b, sigma, bias)
    draw = unit_hash(f"{seed}\0{essay_a}\0{essay_b}")
    return (Winner.ESSAY_A if draw < p_a else Winner.ESSAY_B), p_a


CONNECTIVES = (
    "however",
    "therefore",
    "moreover",
    "furthermore",
    "although",
    "because",
    "consequently",
    "for example",
    "for instance",
    "in addition",
    "on the other hand",
    "as a result",
    "nevertheless",
    "in conclusion",
    "whereas",
    "while",
    "since",
    "thus",
)


def feature_quality(text: str) -> float:
    words = [w.strip(".,;:!?\"'()").lower() for w in text.split()]
    words = [w for w in words if w]
    if not words:
        return -10.0
    lowered = " ".join(words)
    sentences = max(1, sum(text.count(mark) for mark in ".!?"))
    head = words[:50]
    connectives = sum(lowered.count(c) for c in CONNECTIVES)
    return (
        2.5 * math.log(len(words))
        + 6.0 * len(set(head)) / len(head)
        + 0.2 * 100 * connectives / len(words)
        + 1.2 * sum(map(len, words)) / len(words)
        - 0.1 * abs(len(words) / sentences - 18)
    )


def feature_winner(essay_a: str, essay_b: str, *, bias: float, seed: str) -> tuple[Winner, float]:
    p_a = 1.0 / (1.0 + math.exp(-(feature_quality(essay_a) - feature_quality(essay_b) + bias)))
    draw = unit_hash(f"{seed}\0{essay_a}\0{essay_b}")
    return (Winner.ESSAY_A if draw < p_a else Winner.ESSAY_B), p_a


def prompt_value(prompt_sha256: str) -> int:
    return int(prompt_sha256[:8], 16)


@dataclass(frozen=True)
class MockProfile:
    name: str
    prompt_floor: int = 0
    completion_floor: int = 0
    latency_base_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    winner_rule: Callable[[int], Winner] | None = None  # None: the latent_bt judge


def _a_when(predicate: Callable[[int], bool]) -> Callable[[int], Winner]:
    return lambda v: Winner.ESSAY_A if predicate(v) else Winner.ESSAY_B


PROFILES: dict[str, MockProfile] = {
    "default": MockProfile("default", winner_rule=_a_when(lambda v: v % 2 == 0)),
    "cj_generic_batch": MockProfile("cj_generic_batch", 5, 17, winner_rule=lambda v: Winner.ESSAY_A),
    "eng5_anchor_gpt51_low": MockProfile(
        "eng5_anchor_gpt51_low", 1100, 40, 1200, 800, winner_rule=_a_when(lambda v: v % 66 < 35)
    ),
    "eng5_lower5_gpt51_low": MockProfile(
        "eng5_lower5_gpt51_low", 1000, 30, 1000, 1000, winner_rule=_a_when(lambda v: v % 10 < 4)
    ),
    "latent_bt": MockProfile("latent_bt"),
    "essay_features": MockProfile("essay_features", latency_base_ms=150, latency_jitter_ms=250),
}

_JUSTIFICATIONS = {
    Winner.ESSAY_A: (
        "Essay A argues more clearly and supports its claims with better evidence.",
        "Essay A is better organised and answers the assignment more fully.",
        "Essay A shows stronger control of language and a clearer line of reasoning.",
    ),
    Winner.ESSAY_B: (
        "Essay B argues more clearly and supports its claims with better evidence.",
        "Essay B is better organised and answers the assignment more fully.",
        "Essay B shows stronger control of language and a clearer line of reasoning.",
    ),
}


@dataclass(frozen=True)
class MockConfig:
    profile: str = "default"
    seed: str = "0"
    latent_sigma: float = 2.0
    latent_bias: float = 0.0
    latency_scale: float = 1.0
    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    error_rate: float = 0.0
    error_codes: tuple[int, ...] = (429, 503, 500)
    confidence_base: float = 4.5
    confidence_jitter: float = 0.3


@dataclass(frozen=True)
class MockCall:
    """What the mock decided for one call: a verdict or a failure, after `latency_seconds`."""

    latency_seconds: float
    verdict: Verdict | None = None
    failure: ProviderFailure | None = None


def estimate_tokens(text: str) -> int:
    return max(1, math.ceil(len(text.split()) * 0.75))


def latency_in_force(config: MockConfig) -> tuple[float, float]:
    """(base ms, jitter ms) before scaling: the server's own when set, else the profile's."""
    profile = PROFILES[config.profile]
    if config.latency_ms or config.latency_jitter_ms:
        return config.latency_ms, config.latency_jitter_ms
    return profile.latency_base_ms, profile.latency_jitter_ms


def judge(
    config: MockConfig,
    *,
    prompt_text: str,
    prompt_sha256: str,
    essay_a: str,
    essay_b: str,
    request_id: str,
    attempt: int,
    model: str,
) -> MockCall:
    profile = PROFILES[config.profile]
    rng = random.Random(hashlib.sha256(f"{config.seed}\0{request_id}\0{attempt}".encode()).digest())
    base, jitter = latency_in_force(config)
    latency = (base + rng.uniform(0, jitter)) / 1000 * config.latency_scale
    if config.error_rate and rng.random() < config.error_rate:
        status = rng.choice(config.error_codes or (500,))
        return MockCall(
            latency,
            failure=ProviderFailure(
                code="RATE_LIMITED" if status == 429 else "PROVIDER_UNAVAILABLE",
                message=f"mock provider injected HTTP {status}",
                retryable=True,
                http_status=status,
            ),
        )

    if profile.name == "essay_features":
        winner, p_a = feature_winner(essay_a, essay_b, bias=config.latent_bias, seed=config.seed)
        confidence = 1.0 + 8.0 * abs(p_a - 0.5)
    elif profile.winner_rule is None:
        winner, p_a = latent_winner(
            essay_a, essay_b, sigma=config.latent_sigma, bias=config.latent_bias, seed=config.seed
        )
        confidence = 1.0 + 8.0 * abs(p_a - 0.5)
    else:
        winner = profile.winner_rule(prompt_value(prompt_sha256))
        confidence = config.confidence_base + rng.uniform(-config.confidence_jitter, config.confidence_jitter)
    justification = _JUSTIFICATIONS[winner][int(prompt_sha256[8:12], 16) % len(_JUSTIFICATIONS[winner])]
    usage = TokenUsage(
        prompt_tokens=max(estimate_tokens(prompt_text), profile.prompt_floor),
        completion_tokens=max(estimate_tokens(justification) + 10, profile.completion_floor),
    )
    verdict = Verdict(
        winner=winner,
        confidence=round(min(max(confidence, 1.0), 5.0), 3),
        justification=justification,
        usage=usage,
        model=model,
    )
    return MockCall(latency, verdict=verdict)

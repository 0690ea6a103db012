"""Mock-profile parity: each profile's recorded figures and the checks a live run must pass.

The figures are the reference runs' as the profiles reproduce them: the winner split of the
recorded run (35 A / 31 B over the 66 anchor pairs; 4 in 10 for lower5; always A for the
generic batch), token counts never below the recorded floors (so the expected prompt mean
of a run is the mean of max(floor, the mock's estimate for each prompt sent), and the
completion mean the floor), and the latency distribution
base + U(0, jitter) ms, whose mean is base + jitter / 2 and p95 base + 0.95 jitter.
Latencies scale with the server's `latency_scale` (GetMockMode reports it).

Tolerances are the reference parity suites': token means within max(5, 50% of the recorded
mean) (completion for the anchor profile within max(10, the recorded mean)); latency mean at
most the recorded mean + 100 ms and p95 at most the recorded p95 + 200 ms; winner share
within 0.20 (anchor) or 0.30 (lower5, where B must also win at least as often as A), and at
least 90% A for the generic batch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RecordedFigures:
    share_a: float
    share_tolerance: float
    prompt_tokens_mean: float
    completion_tokens_mean: float
    latency_base_ms: float
    latency_jitter_ms: float
    completion_tolerance: float | None = None  # None: max(5, 50% of the mean)
    min_share_a: float | None = None  # the generic batch: at least this share of A
    b_at_least_a: bool = False

    def latency_mean_ms(self, scale: float) -> float:
        return (self.latency_base_ms + self.latency_jitter_ms / 2) * scale

    def latency_p95_ms(self, scale: float) -> float:
        return (self.latency_base_ms + 0.95 * self.latency_jitter_ms) * scale


RECORDED: dict[str, RecordedFigures] = {
    "cj_generic_batch": RecordedFigures(1.0, 0.10, 5, 17, 0, 0, min_share_a=0.90),
    "eng5_anchor_gpt51_low": RecordedFigures(35 / 66, 0.20, 1100, 40, 1200, 800, completion_tolerance=40),
    "eng5_lower5_gpt51_low": RecordedFigures(4 / 10, 0.30, 1000, 30, 1000, 1000, b_at_least_a=True),
}


@dataclass(frozen=True)
class Observed:
    winners_a: int
    count: int
    prompt_tokens: Sequence[int]
    completion_tokens: Sequence[int]
    latencies_ms: Sequence[float]


@dataclass(frozen=True)
class Check:
    name: str
    observed: float
    expected: str
    passed: bool


def p95(values: Sequence[float]) -> float:
    """The nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)] if ordered else 0.0


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _token_check(name: str, observed: float, recorded: float, tolerance: float | None) -> Check:
    allowed = tolerance if tolerance is not None else max(5.0, 0.5 * recorded)
    return Check(name, observed, f"{recorded:g} ± {allowed:g}", abs(observed - recorded) <= allowed)


def checks(
    figures: RecordedFigures, observed: Observed, latency_scale: float, prompt_estimates: Sequence[int] = ()
) -> list[Check]:
    """Every parity check of one run against the profile's recorded figures. `prompt_estimates`:
    the mock's token estimate of each prompt sent (raising the expected prompt mean above the floor)."""
    share = observed.winners_a / observed.count if observed.count else 0.0
    out = [
        Check(
            "winner share A",
            share,
            f"{figures.share_a:.3f} ± {figures.share_tolerance:g}",
            abs(share - figures.share_a) <= figures.share_tolerance,
        )
    ]
    if figures.min_share_a is not None:
        out.append(Check("winner share A minimum", share, f">= {figures.min_share_a:g}", share >= figures.min_share_a))
    if figures.b_at_least_a:
        out.append(Check("B wins at least as often as A", share, "<= 0.5", share <= 0.5))
    out += [
        _token_check(
            "prompt tokens mean",
            mean(observed.prompt_tokens),
            mean([max(e, figures.prompt_tokens_mean) for e in prompt_estimates]) or figures.prompt_tokens_mean,
            None,
        ),
        _token_check(
            "completion tokens mean",
            mean(observed.completion_tokens),
            figures.completion_tokens_mean,
            figures.completion_tolerance,
        ),
    ]
    live_mean, live_p95 = mean(observed.latencies_ms), p95(observed.latencies_ms)
    recorded_mean, recorded_p95 = figures.latency_mean_ms(latency_scale), figures.latency_p95_ms(latency_scale)
    out += [
        Check("latency mean ms", live_mean, f"<= {recorded_mean:.0f} + 100", live_mean <= recorded_mean + 100),
        Check("latency p95 ms", live_p95, f"<= {recorded_p95:.0f} + 200", live_p95 <= recorded_p95 + 200),
    ]
    return out

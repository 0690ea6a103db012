"""The decision after every change: wait, submit a wave, finalize or fail. Total: every
state leads to exactly one of them, so an assessment never waits for a sweep.

Rules, in order:
1. Too many failures: more than `max_failure_rate` of finished attempts failed, with at
   least `min_failures_to_fail` failures -> FAIL.
2. Judgements outstanding -> WAIT (a wave is decided on once its answers are in; in
   provider_batch_api mode the single wave is the whole assessment).
3. Nothing outstanding:
   - provider_batch_api and its wave is done -> FINALIZE (budget spent).
   - the honest reliability reached the target, with at least `min_rounds` judgements
     per essay -> FINALIZE (target reliability).
   - the budget of attempts is spent -> FINALIZE (budget spent), or FAIL when no
     judgement succeeded at all.
   - failed pairs may be retried, or informative pairs remain -> SUBMIT.
   - otherwise -> FINALIZE (every pair judged / no informative pair left), or FAIL
     when nothing ever succeeded.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    WAIT = "wait"
    SUBMIT = "submit"
    FINALIZE = "finalize"
    FAIL = "fail"


class StopReason(StrEnum):
    NONE = ""
    TARGET_RELIABILITY = "target_reliability"
    BUDGET_SPENT = "budget_spent"
    NO_INFORMATIVE_PAIR = "no_informative_pair"
    ALL_PAIRS_JUDGED = "all_pairs_judged"


@dataclass(frozen=True)
class Progress:
    n_items: int
    budget: int  # attempts allowed
    attempts: int  # attempts made (submitted), retries included
    pending: int
    succeeded: int
    failed: int
    retryable: int  # failed pairs that may still be tried again
    informative_pairs_left: bool
    all_pairs_judged: bool
    reliability: float  # the honest estimate: split-half, its lower bound (mean - one standard error)
    target_reliability: float
    single_wave: bool  # provider_batch_api
    waves: int


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str
    stop_reason: StopReason = StopReason.NONE


@dataclass(frozen=True)
class StoppingPolicy:
    max_failure_rate: float = 0.5
    min_failures_to_fail: int = 10
    min_rounds: float = 2.0  # judgements per essay before the reliability stop may fire

    def decide(self, p: Progress) -> Decision:
        finished = p.succeeded + p.failed
        if p.failed >= self.min_failures_to_fail and p.failed > self.max_failure_rate * finished:
            return Decision(Action.FAIL, f"{p.failed} of {finished} judgements failed")
        if p.pending > 0:
            return Decision(Action.WAIT, f"{p.pending} judgements outstanding")
        if p.single_wave and p.waves >= 1:
            return self._end(p, StopReason.BUDGET_SPENT, "the single provider batch has been answered")
        enough_rounds = 2 * p.succeeded >= self.min_rounds * p.n_items
        if p.reliability >= p.target_reliability and enough_rounds:
            return Decision(
                Action.FINALIZE,
                f"reliability {p.reliability:.3f} reached the target {p.target_reliability:.3f}",
                StopReason.TARGET_RELIABILITY,
            )
        if p.attempts >= p.budget:
            return self._end(p, StopReason.BUDGET_SPENT, f"the budget of {p.budget} attempts is spent")
        if p.retryable > 0 or p.informative_pairs_left:
            return Decision(Action.SUBMIT, "more judgements are worth asking for")
        reason = StopReason.ALL_PAIRS_JUDGED if p.all_pairs_judged else StopReason.NO_INFORMATIVE_PAIR
        return self._end(p, reason, "no informative pair is left")

    @staticmethod
    def _end(p: Progress, reason: StopReason, why: str) -> Decision:
        if p.succeeded == 0:
            return Decision(Action.FAIL, f"{why}, and no judgement succeeded")
        return Decision(Action.FINALIZE, why, reason)

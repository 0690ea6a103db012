"""The decision after every change: wait, submit more pairs, finalize or fail. Total: every
state leads to exactly one of them, so an assessment never waits for a sweep.

There is no wave barrier: comparisons stay in flight in a bounded window and new
ones are submitted while others are outstanding. Rules, in order:
1. Too many failures: more than `max_failure_rate` of finished attempts failed, with at
   least `min_failures_to_fail` failures -> FAIL.
2. provider_batch_api (one batch is the whole assessment): its judgements outstanding
   -> WAIT; the batch answered -> FINALIZE (budget spent).
3. A reason to stop: the honest reliability estimate (`Reliability.estimate`, exactly the
   figure the result and the progress report; held_out.py) reached the target with at least
   `min_rounds` judgements per essay (target reliability), the budget of attempts is
   spent (budget spent), or no failed pair may be retried and no informative pair is
   left (every pair judged / no informative pair left). With judgements still in
   flight -> WAIT for them (they are paid for and count; no new pair is sent); with
   none -> FINALIZE, or FAIL when no judgement succeeded at all.
4. Judgements in flight and no room in the window -> WAIT.
5. Otherwise -> SUBMIT (failed pairs to retry first, then new pairs).
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
    reliability: float  # the figure the stop compares with the target: the reported honest estimate
    target_reliability: float
    single_wave: bool  # provider_batch_api
    waves: int
    window_room: int = 0  # comparisons that may be sent now without exceeding the in-flight window


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
        if p.single_wave:
            if p.pending > 0:
                return Decision(Action.WAIT, f"{p.pending} judgements outstanding")
            if p.waves >= 1:
                return self._end(p, StopReason.BUDGET_SPENT, "the single provider batch has been answered")
        stop = self._stop(p)
        if stop is not None:
            reason, why = stop
            if p.pending > 0:
                return Decision(Action.WAIT, f"{why}; waiting for the {p.pending} judgements in flight")
            if reason is StopReason.TARGET_RELIABILITY:
                return Decision(Action.FINALIZE, why, reason)
            return self._end(p, reason, why)
        if p.pending > 0 and p.window_room <= 0:
            return Decision(Action.WAIT, f"{p.pending} judgements outstanding, the in-flight window is full")
        return Decision(Action.SUBMIT, "more judgements are worth asking for")

    def _stop(self, p: Progress) -> tuple[StopReason, str] | None:
        enough_rounds = 2 * p.succeeded >= self.min_rounds * p.n_items
        if p.reliability >= p.target_reliability and enough_rounds:
            return (
                StopReason.TARGET_RELIABILITY,
                f"reliability (honest estimate) {p.reliability:.3f} reached the target {p.target_reliability:.3f}",
            )
        if p.attempts >= p.budget:
            return StopReason.BUDGET_SPENT, f"the budget of {p.budget} attempts is spent"
        if p.retryable > 0 or p.informative_pairs_left:
            return None
        reason = StopReason.ALL_PAIRS_JUDGED if p.all_pairs_judged else StopReason.NO_INFORMATIVE_PAIR
        return reason, "no informative pair is left"

    @staticmethod
    def _end(p: Progress, reason: StopReason, why: str) -> Decision:
        if p.succeeded == 0:
            return Decision(Action.FAIL, f"{why}, and no judgement succeeded")
        return Decision(Action.FINALIZE, why, reason)

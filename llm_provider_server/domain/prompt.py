"""The versioned comparison prompt.

The prompt is rendered here, never by callers, from separate fields: the two
essays, the assignment, the criteria and the rubric. Essays are labelled only
"Essay A" and "Essay B"; no essay id ever reaches the judge.

`prompt_sha256` is the SHA-256 (hex) of `RenderedPrompt.canonical`, the system
prompt and the user prompt joined by a blank line: exactly what is sent.

Laid out for the vendors' prompt caches: everything that is the same for every
comparison of an assessment (system prompt, assignment, criteria, rubric, answer
format) comes first and is byte-identical across the assessment; the two essays
come last. `RenderedPrompt.context` is that static opening of the user prompt, which
the Anthropic adapter marks with `cache_control` and OpenAI caches as a prefix.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from llm_provider_server.domain.model import ComparisonSpec

TEMPLATE_VERSION = "cj-compare-v2"

DEFAULT_SYSTEM_PROMPT = (
    "You are an impartial comparative-judgement assessor of upper-secondary student essays. "
    "Judge only against the assignment, criteria and rubric you are given; invent no criteria. "
    "Stay neutral on the essays' stance, topic and length as such. "
    "Decide which essay better fulfils the task, even when they are close."
)

RESPONSE_INSTRUCTIONS = (
    "Decide which of the two essays below better fulfils the assignment under the criteria and rubric above. "
    'Answer with a JSON object: {"winner": "Essay A" or "Essay B", '
    '"justification": at most 50 words naming the decisive factor, '
    '"confidence": a number from 1 (a guess) to 5 (certain)}.'
)


@dataclass(frozen=True)
class RenderedPrompt:
    system: str
    user: str
    template_version: str = TEMPLATE_VERSION
    context: str = ""  # the static opening of `user`, the same for every comparison of an assessment

    @property
    def essays(self) -> str:
        """`user` after its static context: what differs between comparisons."""
        return self.user[len(self.context) :].lstrip("\n") if self.user.startswith(self.context) else self.user

    @property
    def canonical(self) -> str:
        return f"{self.system}\n\n{self.user}"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.canonical.encode("utf-8")).hexdigest()


def _sections(sections: list[tuple[str, str]]) -> str:
    return "\n\n".join(f"## {title}\n{body.strip()}" for title, body in sections if body.strip())


def render(spec: ComparisonSpec) -> RenderedPrompt:
    context = _sections(
        [
            ("Assignment", spec.student_prompt),
            ("Assessment criteria", spec.instructions),
            ("Judge rubric", spec.rubric),
            ("Your answer", RESPONSE_INSTRUCTIONS),
        ]
    )
    essays = _sections([("Essay A", spec.essay_a), ("Essay B", spec.essay_b)])
    return RenderedPrompt(
        system=spec.overrides.system_prompt.strip() or DEFAULT_SYSTEM_PROMPT,
        user=f"{context}\n\n{essays}",
        context=context,
    )

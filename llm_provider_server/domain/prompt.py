"""The versioned comparison prompt.

The prompt is rendered here, never by callers, from separate fields: the two
essays, the assignment, the criteria and the rubric. Essays are labelled only
"Essay A" and "Essay B"; no essay id ever reaches the judge.

`prompt_sha256` is the SHA-256 (hex) of `RenderedPrompt.canonical`, the system
prompt and the user prompt joined by a blank line: exactly what is sent.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from llm_provider_server.domain.model import ComparisonSpec

TEMPLATE_VERSION = "cj-compare-v1"

DEFAULT_SYSTEM_PROMPT = (
    "You are an impartial comparative-judgement assessor of upper-secondary student essays. "
    "Judge only against the assignment, criteria and rubric you are given; invent no criteria. "
    "Stay neutral on the essays' stance, topic and length as such. "
    "Decide which essay better fulfils the task, even when they are close."
)

RESPONSE_INSTRUCTIONS = (
    "Decide which essay better fulfils the assignment under the criteria and rubric above. "
    'Answer with a JSON object: {"winner": "Essay A" or "Essay B", '
    '"justification": at most 50 words naming the decisive factor, '
    '"confidence": a number from 1 (a guess) to 5 (certain)}.'
)


@dataclass(frozen=True)
class RenderedPrompt:
    system: str
    user: str
    template_version: str = TEMPLATE_VERSION

    @property
    def canonical(self) -> str:
        return f"{self.system}\n\n{self.user}"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.canonical.encode("utf-8")).hexdigest()


def render(spec: ComparisonSpec) -> RenderedPrompt:
    sections = [
        ("Assignment", spec.student_prompt),
        ("Assessment criteria", spec.instructions),
        ("Judge rubric", spec.rubric),
        ("Essay A", spec.essay_a),
        ("Essay B", spec.essay_b),
        ("Your answer", RESPONSE_INSTRUCTIONS),
    ]
    user = "\n\n".join(f"## {title}\n{body.strip()}" for title, body in sections if body.strip())
    return RenderedPrompt(system=spec.overrides.system_prompt.strip() or DEFAULT_SYSTEM_PROMPT, user=user)

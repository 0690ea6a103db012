"""domain/prompt.py: the rendered prompt and its hash."""

from __future__ import annotations

import hashlib

from llm_provider_server.domain.model import ComparisonSpec, Overrides
from llm_provider_server.domain.prompt import TEMPLATE_VERSION, render


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

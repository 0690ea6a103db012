"""domain/verdict.py: strict verdict parsing."""

from __future__ import annotations

import pytest

from llm_provider_server.domain.model import ProviderFailure, TokenUsage, Winner
from llm_provider_server.domain.verdict import parse_verdict


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

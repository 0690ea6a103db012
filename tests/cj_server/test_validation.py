"""Validation of a new assessment, before anything is stored."""

from __future__ import annotations

from cj_server.domain.validation import (
    CreateSpec,
    CustomScale,
    EssayInput,
    Limits,
    LlmChoice,
    ModelInfo,
    validate_create,
    validate_llm,
)

LIMITS = Limits(max_essays=5, max_essay_chars=100, max_context_chars=50)


def essay(i: int, essay_id: str | None = None, text: str = "an essay") -> EssayInput:
    return EssayInput(f"essays[{i}]", f"essays[{i}].essay_id", essay_id or f"e{i}", text)


def fields(spec: CreateSpec, stored=None) -> list[str]:
    return [v.field for v in validate_create(spec, stored or {}, LIMITS)[2]]


def test_a_valid_request_gives_items_in_order_with_stored_anchors_last():
    stored = {"a1": EssayInput("", "", "a1", "anchor text", "C", True)}
    spec = CreateSpec("r-1", [essay(0), essay(1)], [], ["anchors/a1"], grade_scale_id="letter_a_to_f")
    scale, items, violations = validate_create(spec, stored, LIMITS)
    assert not violations and scale.scale_id == "letter_a_to_f"
    assert [(i.idx, i.essay_id, i.is_anchor) for i in items] == [(0, "e0", False), (1, "e1", False), (2, "a1", True)]


def test_every_problem_is_a_field_violation():
    spec = CreateSpec(
        "bad id!",
        [essay(0), essay(1, "e0"), essay(2, text=" "), essay(3, text="x" * 101)],
        [EssayInput("anchors[0]", "anchors[0].anchor_id", "a", "t", "Z", True)],
        ["anchors/missing"],
        comparison_budget=-1,
        target_reliability=float("nan"),
        batching_mode=9,
        batching_mode_known=False,
        rubric="r" * 51,
    )
    assert sorted(fields(spec)) == sorted(
        [
            "request_id",
            "anchor_names[0]",
            "essays",  # more than 5 essays and anchors
            "essays[1].essay_id",
            "essays[2].text",
            "essays[3].text",
            "anchors[0].grade",
            "comparison_budget",
            "target_reliability",
            "llm_batching_mode",
            "rubric",
        ]
    )


def test_custom_scales_need_finite_non_negative_priors():
    def scale(*priors: float) -> CreateSpec:
        custom = CustomScale("s", "", tuple("ABC"[: len(priors)]), priors)
        return CreateSpec("r", [essay(0), essay(1)], [], [], custom_scale=custom)

    assert fields(scale(0.5, 0.5)) == []
    assert fields(scale(float("nan"), 1.0)) == ["custom_grade_scale.grades"]
    assert fields(scale(-0.5, 1.5)) == ["custom_grade_scale.grades"]
    assert fields(scale(0.2, 0.2)) == ["custom_grade_scale.grades"]


def test_overrides_are_checked_against_the_listed_models():
    models = [
        ModelInfo(2, "gpt-a", is_default=True, supports_temperature=True, max_output_tokens=1000),
        ModelInfo(2, "gpt-b", is_default=False, supports_temperature=False, max_output_tokens=1000),
    ]
    assert validate_llm(LlmChoice(provider=2), models) == []
    assert validate_llm(LlmChoice(provider=2, model="gpt-a", temperature=1.0, max_tokens=1000), models) == []
    [unknown] = validate_llm(LlmChoice(provider=2, model="x" * 10_000), models)
    assert unknown.field == "llm_overrides.model" and len(unknown.description) < 300
    assert [v.field for v in validate_llm(LlmChoice(model="gpt-b", temperature=0.5), models)] == [
        "llm_overrides.temperature"
    ]
    assert [v.field for v in validate_llm(LlmChoice(model="gpt-a", max_tokens=5000), models)] == [
        "llm_overrides.max_tokens"
    ]
    assert [v.field for v in validate_llm(LlmChoice(provider=7), [])] == ["llm_overrides.provider"]

"""Validation of a new assessment: every problem becomes a field violation, before anything
is stored. The request arrives as plain records (the converters build them from the
proto); the models the LLM provider server offers are given by the caller, so a bad model
or override fails `CreateAssessment`, not the assessment's first wave."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from cj_server.domain.grading import BUILT_IN_SCALES, GradeScale
from service_core.errors import FieldViolation
from service_core.validation import is_valid_id

ID_RULE = "required: 1-128 characters of letters, digits and . _ : -"
DEFAULT_SCALE = "swedish_f_to_a"
PREFIX = 80  # characters of an input value an error message may repeat


@dataclass(frozen=True)
class EssayInput:
    field: str  # "essays[3]", "anchors[0]", "anchor_names[1]"
    id_field: str
    essay_id: str
    text: str
    grade: str = ""
    is_anchor: bool = False


@dataclass(frozen=True)
class CustomScale:
    scale_id: str
    display_name: str
    grades: tuple[str, ...]
    priors: tuple[float, ...]


@dataclass(frozen=True)
class LlmChoice:
    provider: int = 0
    model: str = ""
    temperature: float | None = None
    max_tokens: int | None = None
    system_prompt: str = ""


@dataclass(frozen=True)
class CreateSpec:
    request_id: str
    essays: Sequence[EssayInput]
    anchors: Sequence[EssayInput]
    anchor_names: Sequence[str]
    grade_scale_id: str = ""
    custom_scale: CustomScale | None = None
    comparison_budget: int = 0
    target_reliability: float = 0.0
    batching_mode: int = 0
    batching_mode_known: bool = True
    student_prompt: str = ""
    instructions: str = ""
    rubric: str = ""
    llm: LlmChoice = field(default_factory=LlmChoice)


@dataclass(frozen=True)
class Limits:
    max_essays: int
    max_essay_chars: int
    max_context_chars: int = 50_000


@dataclass(frozen=True)
class ModelInfo:
    """What the LLM provider server says about one of its models (`ListModels`)."""

    provider: int
    model_id: str
    is_default: bool
    supports_batch_api: bool = False
    supports_temperature: bool = True
    max_output_tokens: int = 0


@dataclass(frozen=True)
class ValidItem:
    idx: int
    essay_id: str
    is_anchor: bool
    anchor_grade: str
    text: str


def short(value: str) -> str:
    return value if len(value) <= PREFIX else value[:PREFIX] + "..."


def validate_create(
    spec: CreateSpec, stored_anchors: Mapping[str, EssayInput], limits: Limits
) -> tuple[GradeScale, list[ValidItem], list[FieldViolation]]:
    violations: list[FieldViolation] = []

    def bad(name: str, why: str) -> None:
        violations.append(FieldViolation(name, why))

    if not is_valid_id(spec.request_id):
        bad("request_id", ID_RULE)
    scale = _scale(spec, bad)
    inputs = list(spec.essays) + list(spec.anchors)
    for i, anchor_name in enumerate(spec.anchor_names):
        stored = stored_anchors.get(anchor_name.partition("/")[2])
        if stored is None:
            bad(f"anchor_names[{i}]", f"no stored anchor {short(anchor_name)!r}")
        else:
            inputs.append(replace(stored, field=f"anchor_names[{i}]", id_field=f"anchor_names[{i}]", is_anchor=True))
    if len(spec.essays) < 2:
        bad("essays", "at least two essays are needed to compare")
    if len(spec.essays) + len(spec.anchors) + len(spec.anchor_names) > limits.max_essays:
        bad("essays", f"at most {limits.max_essays} essays and anchors in one assessment")
    items = _items(inputs, scale, limits, bad) if len(violations) < 100 else []
    _numbers(spec, bad)
    _context(spec, limits, bad)
    return scale or BUILT_IN_SCALES[DEFAULT_SCALE], items, violations


def _items(
    inputs: list[EssayInput], scale: GradeScale | None, limits: Limits, bad: Callable[[str, str], None]
) -> list[ValidItem]:
    items: list[ValidItem] = []
    seen: set[str] = set()
    for essay in inputs:
        if not is_valid_id(essay.essay_id):
            bad(essay.id_field, ID_RULE)
        elif essay.essay_id in seen:
            bad(essay.id_field, f"{essay.essay_id!r} appears more than once")
        seen.add(essay.essay_id)
        if not essay.text.strip():
            bad(f"{essay.field}.text", "must not be empty")
        elif len(essay.text) > limits.max_essay_chars:
            bad(f"{essay.field}.text", f"longer than {limits.max_essay_chars} characters")
        if essay.is_anchor and scale is not None and scale.index(essay.grade) is None:
            bad(
                f"{essay.field}.grade",
                f"{short(essay.grade)!r} is not a grade of {scale.scale_id} ({', '.join(scale.grades)})",
            )
        items.append(ValidItem(len(items), essay.essay_id, essay.is_anchor, essay.grade, essay.text))
    return items


def _numbers(spec: CreateSpec, bad: Callable[[str, str], None]) -> None:
    if spec.comparison_budget < 0:
        bad("comparison_budget", "must not be negative (0 means the server default)")
    if not (math.isfinite(spec.target_reliability) and 0 <= spec.target_reliability < 1):
        bad("target_reliability", "must be in (0, 1), or 0 for the server default")
    if not spec.batching_mode_known:
        bad("llm_batching_mode", f"unknown value {spec.batching_mode}")


def _context(spec: CreateSpec, limits: Limits, bad: Callable[[str, str], None]) -> None:
    for name, text in (
        ("student_prompt", spec.student_prompt),
        ("instructions", spec.instructions),
        ("rubric", spec.rubric),
        ("llm_overrides.system_prompt", spec.llm.system_prompt),
    ):
        if len(text) > limits.max_context_chars:
            bad(name, f"longer than {limits.max_context_chars} characters")


def _scale(spec: CreateSpec, bad: Callable[[str, str], None]) -> GradeScale | None:
    custom = spec.custom_scale
    if custom is not None:
        grades, priors = custom.grades, custom.priors
        if not custom.scale_id or len(grades) < 2 or len(set(grades)) != len(grades) or not all(grades):
            bad("custom_grade_scale", "needs a scale_id and at least two distinct, non-empty grades")
            return None
        if any(not math.isfinite(p) or p < 0 for p in priors):
            bad("custom_grade_scale.grades", "priors must be finite and not negative")
            return None
        if any(priors) and abs(sum(priors) - 1) > 0.01:
            bad("custom_grade_scale.grades", "priors must sum to 1 (or all be 0)")
        return GradeScale(
            custom.scale_id, custom.display_name or custom.scale_id, grades, priors if any(priors) else ()
        )
    scale_id = spec.grade_scale_id or DEFAULT_SCALE
    if scale_id not in BUILT_IN_SCALES:
        bad("grade_scale_id", f"unknown grade scale {short(scale_id)!r} (known: {', '.join(BUILT_IN_SCALES)})")
        return None
    return BUILT_IN_SCALES[scale_id]


def validate_llm(choice: LlmChoice, models: Sequence[ModelInfo]) -> list[FieldViolation]:
    """The overrides against the models the LLM provider server lists for the provider."""
    if not models:
        return [
            FieldViolation("llm_overrides.provider", f"the LLM provider server offers no models of {choice.provider}")
        ]
    if choice.model:
        chosen = [m for m in models if m.model_id == choice.model]
    else:
        chosen = [m for m in models if m.is_default][:1] or list(models[:1])
    if not chosen:
        known = ", ".join(sorted({m.model_id for m in models})[:20])
        return [FieldViolation("llm_overrides.model", f"unknown model {short(choice.model)!r} (known: {known})")]
    model = chosen[0]
    out = []
    if choice.temperature is not None:
        if not (math.isfinite(choice.temperature) and 0.0 <= choice.temperature <= 2.0):
            out.append(FieldViolation("llm_overrides.temperature", "must be from 0.0 to 2.0"))
        elif not model.supports_temperature:
            out.append(FieldViolation("llm_overrides.temperature", f"{model.model_id} does not accept a temperature"))
    if choice.max_tokens is not None and not 1 <= choice.max_tokens <= max(model.max_output_tokens, 1):
        out.append(
            FieldViolation(
                "llm_overrides.max_tokens", f"must be from 1 to {model.max_output_tokens} for {model.model_id}"
            )
        )
    return out


def needs_model_check(choice: LlmChoice) -> bool:
    return bool(choice.provider or choice.model or choice.temperature is not None or choice.max_tokens is not None)


def validate_anchor(
    request_id: str, grade_scale_id: str, grade: str, text: str, limits: Limits
) -> list[FieldViolation]:
    """A stored anchor essay (`CreateAnchor`)."""
    out = []
    if not is_valid_id(request_id):
        out.append(FieldViolation("request_id", ID_RULE))
    scale = BUILT_IN_SCALES.get(grade_scale_id)
    if scale is None:
        out.append(FieldViolation("anchor.grade_scale_id", f"unknown grade scale {short(grade_scale_id)!r}"))
    elif scale.index(grade) is None:
        out.append(FieldViolation("anchor.grade", f"{short(grade)!r} is not a grade of {scale.scale_id}"))
    if not text.strip():
        out.append(FieldViolation("anchor.text", "must not be empty"))
    elif len(text) > limits.max_essay_chars:
        out.append(FieldViolation("anchor.text", f"longer than {limits.max_essay_chars} characters"))
    return out

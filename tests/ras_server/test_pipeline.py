"""The declared pipeline order decides phase order, not the registration's list."""

from ras_server.domain.pipeline import PIPELINE_ORDER, in_pipeline_order, is_known


def test_registration_order_does_not_matter():
    assert in_pipeline_order(["cj_assessment", "spellcheck"]) == ["spellcheck", "cj_assessment"]
    assert in_pipeline_order(["ai_feedback", "cj_assessment", "nlp", "spellcheck", "nlp"]) == list(PIPELINE_ORDER)


def test_unknown_phases_are_not_part_of_the_pipeline():
    assert not is_known("student_matching") and is_known("nlp")
    assert in_pipeline_order(["made_up", "cj_assessment"]) == ["cj_assessment"]

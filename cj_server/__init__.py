"""CJ server: assessments by comparative judgement: pairs, scores, stopping, grades."""

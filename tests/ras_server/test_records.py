"""Event fingerprints: the same content is the same event; anything else differs."""

from ras_server.domain.phases import PhaseStatus
from ras_server.domain.records import CancelBatch, MarkReady, PhaseReport


def test_fingerprints_cover_every_field_and_the_kind():
    base = PhaseReport("ev-1", "b1", 5.0, "e1", "spellcheck", PhaseStatus.COMPLETED)
    assert base.fingerprint() == PhaseReport("ev-1", "b1", 5.0, "e1", "spellcheck", PhaseStatus.COMPLETED).fingerprint()
    assert base.fingerprint() != PhaseReport("ev-1", "b2", 5.0, "e1", "spellcheck", PhaseStatus.COMPLETED).fingerprint()
    assert base.fingerprint() != PhaseReport("ev-1", "b1", 5.0, "e1", "spellcheck", PhaseStatus.FAILED).fingerprint()
    assert MarkReady("ev-1", "b1", None).fingerprint() != CancelBatch("ev-1", "b1", None).fingerprint()

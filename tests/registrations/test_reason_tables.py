"""The reason codes live in three tables: the decision's, the log's choices, the explanations.

They must name the same reasons, or a reason would be recorded without a label or explained
nowhere.
"""

from registrations.explanations import EXPLANATIONS
from registrations.models import ReasonCode, RegistrationLogEntry
from registrations.policy import Reason


def test_the_log_has_a_label_for_every_reason_and_no_other():
    assert set(ReasonCode.values) == {reason.value for reason in Reason}


def test_every_reason_is_explained():
    assert set(EXPLANATIONS) == set(Reason)
    assert all(text.strip() for text in EXPLANATIONS.values())


def test_the_log_can_hold_every_reason():
    longest = max(len(reason.value) for reason in Reason)
    assert longest <= RegistrationLogEntry._meta.get_field("reason").max_length

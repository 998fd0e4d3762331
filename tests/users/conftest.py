"""Fixtures for the Users tab's tests."""

import pytest

from tests.users.logged_in import answering_logged_in_now


@pytest.fixture
def logged_in_answered():
    """`users.signals.logged_in_now` answered from the open hot-desk sessions, for this test."""
    with answering_logged_in_now():
        yield

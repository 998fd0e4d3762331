from __future__ import annotations

from django import forms

from common.forms import FilterForm, date_field

from .log import IN_PROGRESS
from .models import Direction, Result


class CallLogFilterForm(FilterForm):
    extension = forms.CharField(
        required=False, max_length=64, label="Extension", help_text="Either side of the call"
    )
    direction = forms.ChoiceField(
        required=False, choices=[("", "Any direction"), *Direction.choices]
    )
    result = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Any result"),
            *[(value, label) for value, label in Result.choices if value],
            (IN_PROGRESS, "In progress"),
        ],
    )
    since = date_field("From")
    until = date_field("To")

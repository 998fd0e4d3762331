from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from installs.models import Install

from .batch import MAX_BATCH, BatchAction
from .listing import DEFAULT_PAGE_SIZE, PAGE_SIZES, SORT_KEYS
from .models import PbxUser
from .validators import validate_pin


class PbxUserForm(forms.ModelForm):
    """User Settings: Hot Desk Access and a write-only Hot Desk PIN.

    The PIN field is never filled in from the stored value (there is none to fill: only its
    digest is kept); leaving it empty keeps the current PIN.
    """

    pin = forms.CharField(
        label="Hot Desk Pin",
        required=False,
        strip=True,
        max_length=4,
        widget=forms.PasswordInput(
            render_value=False,
            attrs={"autocomplete": "new-password", "inputmode": "numeric", "pattern": "[0-9]{4}"},
        ),
        help_text="4 digits. Leave empty to keep the current PIN. It cannot be shown again.",
    )

    class Meta:
        model = PbxUser
        fields = ["extension", "name", "hot_desk_access"]
        help_texts = {
            "extension": "The operator's 4-digit extension, such as 1001.",
            "hot_desk_access": "Allow this user to log in on shared handsets.",
        }

    def __init__(self, *args: Any, install: Install, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.install = install
        if self.instance.pk:
            # The PIN digest includes the extension, so renumbering would silently void the PIN.
            self.fields["extension"].disabled = True
            self.fields["extension"].help_text = "Fixed: the PIN digest is tied to it."

    def clean_extension(self) -> str:
        extension = self.cleaned_data["extension"]
        # The install is set here, not a form field, so ModelForm's own unique check skips it.
        taken = PbxUser.objects.filter(install=self.instance.install, extension=extension)
        if taken.exclude(pk=self.instance.pk).exists():
            raise ValidationError(
                "Extension %(extension)s already exists in this install.",
                code="duplicate_extension",
                params={"extension": extension},
            )
        return extension

    def clean_pin(self) -> str:
        pin = self.cleaned_data["pin"]
        if pin:
            extension = self.cleaned_data.get("extension") or self.instance.extension
            validate_pin(pin, extension=extension)
        return pin

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None  # ModelForm.clean() returns cleaned_data
        if self.has_error("pin"):
            # The typed PIN was refused and says why; "Set a PIN" beside it would contradict it.
            return cleaned
        missing_pin = not (
            cleaned.get("pin") or self.instance.has_pin or self.data.get("generate_pin")
        )
        if cleaned.get("hot_desk_access") and missing_pin:
            self.add_error(
                "pin",
                ValidationError("Set a PIN to give this user Hot Desk Access.", code="pin_needed"),
            )
        return cleaned

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound or not self.errors:
            return
        if self.has_error("pin"):
            # A refused PIN stays in the field so the administrator sees what was wrong with
            # it. It was refused, so it guards nothing; the page is `no-store` all the same.
            self.fields["pin"].widget.render_value = True  # type: ignore[attr-defined]
        elif self.cleaned_data.get("pin"):
            # An accepted PIN is about to be a secret: it is not sent back. Say so, or saving
            # again after fixing the other field would quietly keep the old PIN.
            again = "Type the new PIN again: it is not shown back after another field's error."
            # The bound field copied the help text when it was made, during cleaning.
            self.fields["pin"].help_text = self["pin"].help_text = again


YES_NO_ANY = [("", "Any"), ("yes", "Yes"), ("no", "No")]


class UserListForm(forms.Form):
    """The Users tab's search, filters, sort and page size (a GET form: every field optional)."""

    q = forms.CharField(label="Search", required=False, max_length=120)
    access = forms.ChoiceField(label="Hot Desk Access", choices=YES_NO_ANY, required=False)
    pin = forms.ChoiceField(label="PIN set", choices=YES_NO_ANY, required=False)
    locked = forms.ChoiceField(label="Locked", choices=YES_NO_ANY, required=False)
    logged_in = forms.ChoiceField(label="Logged in now", choices=YES_NO_ANY, required=False)
    per_page = forms.TypedChoiceField(
        label="Per page",
        choices=[(size, size) for size in PAGE_SIZES],
        coerce=int,
        required=False,
        empty_value=None,  # `options` gives DEFAULT_PAGE_SIZE
    )
    sort = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.is_bound and not self.data.get("per_page"):
            # Show the page size in use, or the browser would show (and submit) the first.
            # (A plain dict of single values: `{**querydict}` would copy its value lists.)
            data = {name: self.data.get(name) for name in self.data}
            self.data = {**data, "per_page": str(DEFAULT_PAGE_SIZE)}
        for field in self.fields.values():
            css = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
            field.widget.attrs.setdefault("class", f"{css} {css}-sm")

    def clean_sort(self) -> str:
        sort = self.cleaned_data["sort"] or "extension"
        if sort.removeprefix("-") not in SORT_KEYS:
            raise ValidationError(
                "The list cannot be sorted by “%(sort)s”: it is sorted by extension.",
                code="unknown_sort",
                params={"sort": sort},
            )
        return sort

    def full_clean(self) -> None:
        super().full_clean()
        # Hand-written markup (the list's filter row), so mark the refused fields here.
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-describedby"] = f"id_{name}_error"

    def options(self) -> dict[str, Any]:
        """The valid choices, defaults for the rest: an invalid field is reported, not used."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {
            "per_page": cleaned.get("per_page") or DEFAULT_PAGE_SIZE,
            "sort": cleaned.get("sort") or "extension",
            "filters": {
                name: cleaned.get(name) or ""
                for name in ("q", "access", "pin", "locked", "logged_in")
            },
        }


class UserIdsField(forms.Field):
    """The ticked rows: user ids, each a whole number, at most `MAX_BATCH` of them."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": "Select at least one user: tick the boxes beside their extensions.",
        "invalid": "The selection was not understood: select the users again.",
    }

    def to_python(self, value: Any) -> list[int]:
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        if not all(isinstance(v, str) and v.isdecimal() and len(v) <= 12 for v in values):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return sorted({int(v) for v in values})

    def validate(self, value: list[int]) -> None:
        super().validate(value)
        if len(value) > MAX_BATCH:
            raise ValidationError(
                "At most %(max)s users at a time: you selected %(count)s. Select fewer.",
                code="too_many",
                params={"max": MAX_BATCH, "count": len(value)},
            )


class BulkActionForm(forms.Form):
    """An action on the rows ticked on the Users tab."""

    action = forms.ChoiceField(
        label="With the selected users",
        choices=[("", "Choose an action…"), *BatchAction.choices],
        error_messages={"required": "Choose what to do with the selected users."},
    )
    users = UserIdsField()


class PinSheetForm(forms.Form):
    """The download form of a batch's new PINs: which sheet, and its key (both hidden)."""

    sheet = forms.CharField(max_length=64, widget=forms.HiddenInput)
    key = forms.CharField(max_length=64, widget=forms.HiddenInput)

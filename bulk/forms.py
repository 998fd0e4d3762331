from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.datastructures import MultiValueDict

from .csvfiles import MAX_BYTES


class ImportForm(forms.Form):
    """Upload a CSV for the dry run (or, as scripts may, again with the fingerprint to apply)."""

    file = forms.FileField(label="CSV file", help_text="UTF-8 CSV with a header line.")
    fingerprint = forms.CharField(required=False, widget=forms.HiddenInput, max_length=128)

    def clean_file(self) -> UploadedFile:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise ValidationError(
                "The file is larger than %(mb)s MB; split it.",
                code="too_big",
                params={"mb": MAX_BYTES // 1_000_000},
            )
        return upload

    @classmethod
    def asking_again(cls, message: str, *, auto_id: str = "id_%s") -> "ImportForm":
        """An upload form whose file field says why the file must be chosen again."""
        form = cls(data={}, files=MultiValueDict(), auto_id=auto_id)
        form.full_clean()
        form.errors.pop("file", None)  # not "This field is required": the reason is `message`
        form.add_error("file", ValidationError(message, code="choose_again"))
        return form


class ApplyForm(forms.Form):
    """Apply the previewed file kept on the server (`bulk.pending`): which one, its key, and
    the fingerprint of the preview the administrator saw."""

    pending = forms.CharField(max_length=64, widget=forms.HiddenInput)
    key = forms.CharField(max_length=64, widget=forms.HiddenInput)
    fingerprint = forms.CharField(max_length=128, widget=forms.HiddenInput)

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from .csvfiles import MAX_BYTES


class ImportForm(forms.Form):
    """Upload a CSV for the dry run; upload it again, with the preview's fingerprint, to apply."""

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

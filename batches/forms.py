from django import forms
from django.conf import settings

from .models import Batch


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files, checked one by one by services.create_batch (which lists the bad ones)."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data] if data else []
        return [super(MultipleFileField, self).clean(upload, initial) for upload in files if upload]


class BatchForm(forms.Form):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(label="Each image holds", choices=Batch.Kind.choices, widget=forms.RadioSelect)
    files = MultipleFileField(
        label="Images", required=False, widget=MultipleFileInput(attrs={"accept": "image/*"}),
        help_text=f"Up to {settings.BATCH_MAX_IMAGES:,} images, {settings.BATCH_MAX_BYTES // 2**20} MB in all.",
    )
    archive = forms.FileField(
        label="Or a .zip of images", required=False, widget=forms.ClearableFileInput(attrs={"accept": ".zip"})
    )

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not cleaned.get("files") and not cleaned.get("archive"):
            raise forms.ValidationError("Choose some images or a .zip of them.", code="required")
        return cleaned


class ExportForm(forms.Form):
    all = forms.BooleanField(required=False, help_text="Every item, not only the settled ones.")

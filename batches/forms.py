from django import forms
from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

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
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Each image holds"), choices=Batch.Kind.choices,
                             widget=forms.RadioSelect)
    files = MultipleFileField(
        label=_("Images"), required=False, widget=MultipleFileInput(attrs={"accept": "image/*"}),
        help_text=format_lazy(_("Up to {images} images, {megabytes} MB in all."),
                              images=f"{settings.BATCH_MAX_IMAGES:,}",
                              megabytes=settings.BATCH_MAX_BYTES // 2**20),
    )
    archive = forms.FileField(
        label=_("Or a .zip of images"), required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".zip"}),
    )

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not cleaned.get("files") and not cleaned.get("archive"):
            raise forms.ValidationError(_("Choose some images or a .zip of them."), code="required")
        return cleaned


class ExportForm(forms.Form):
    all = forms.BooleanField(required=False, help_text=_("Every item, not only the settled ones."))

from django import forms
from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from recognition.forms import MultipleFileInput

from . import selectors
from .models import Batch, BatchItem


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


State = BatchItem.State
REVIEW_STATES = [(state.value, state.label) for state in selectors.REVIEWABLE]


class QueueFilterForm(forms.Form):
    """The review queue's filters, from the query string. Confidence in percent, as the pages show it."""

    batch = forms.ModelChoiceField(queryset=Batch.objects.none(), required=False, empty_label="All batches")
    state = forms.ChoiceField(choices=[*REVIEW_STATES, ("all", "Any reviewable")], required=False)
    confidence_below = forms.DecimalField(
        label="Confidence below (%)", min_value=0, max_value=100, decimal_places=2, required=False,
        widget=forms.NumberInput(attrs={"step": "any", "placeholder": "e.g. 80"}),
    )

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["batch"].queryset = Batch.objects.filter(organization_id=user.organization_id)

    def queue_arguments(self):
        """What selectors.review_queue takes (call after is_valid)."""
        data = self.cleaned_data
        below = data.get("confidence_below")
        return {
            "batch": data.get("batch"),
            "state": None if data.get("state") == "all" else data.get("state") or State.NEEDS_REVIEW,
            "confidence_below": None if below is None else float(below) / 100,
        }


class ReviewForm(forms.Form):
    """One action on the review screen. ``save`` is what Enter does: accept the reading as it stands, or
    correct it to the value typed."""

    action = forms.ChoiceField(choices=[(a, a) for a in ("save", "accept", "correct", "reject", "undo",
                                                         "next", "previous")])
    value = forms.CharField(required=False, max_length=200, strip=True)


class AcceptAboveForm(forms.Form):
    batch = forms.ModelChoiceField(queryset=Batch.objects.none(), empty_label=None)
    confidence = forms.DecimalField(label="Confidence at least (%)", min_value=0, max_value=100,
                                    decimal_places=2)

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["batch"].queryset = Batch.objects.filter(organization_id=user.organization_id)

from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .models import Prediction
from .services import check_upload


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


@dataclass
class CheckedUploads:
    """What a multiple upload brought: the images that passed every check, and why the others did not."""

    images: list
    refused: list  # one message per refused file, which names it


class MultipleImageField(forms.FileField):
    """A file field that takes several images and checks each one (see services.check_upload).

    The good images of a mixed upload are kept and the bad ones listed with their reasons; only an upload
    with no good image at all is an error."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data] if data else []
        if not files:
            raise ValidationError(gettext("Choose at least one image."), code="required")
        limit = settings.RECOGNITION_MAX_FILES
        if len(files) > limit:
            raise ValidationError(
                ngettext("Send at most %(limit)d image at once.", "Send at most %(limit)d images at once.",
                         limit) % {"limit": limit},
                code="too_many",
            )
        checked, errors = [], []
        for upload in files:
            try:
                checked.append(check_upload(upload))
            except ValidationError as error:
                errors.append(error)
        if not checked:
            raise ValidationError(errors)
        refused = [message for error in errors for message in error.messages]
        return CheckedUploads(images=checked, refused=refused)


class UploadForm(forms.Form):
    images = MultipleImageField(
        label=_("Images"),
        help_text=_("PNG, JPEG, GIF, BMP, TIFF or WebP; one digit, or one line of digits, per image."),
        widget=MultipleFileInput(attrs={"accept": "image/*"}),
    )
    kind = forms.ChoiceField(
        label=_("Each image holds"),
        choices=Prediction.Kind.choices,
        initial=Prediction.Kind.DIGIT,
        required=False,  # forms and scripts from before kinds existed send none: they meant one digit
        widget=forms.RadioSelect,
    )
    source = forms.ChoiceField(
        choices=[(Prediction.Source.UPLOAD, _("Upload")), (Prediction.Source.DRAWING, _("Drawing"))],
        initial=Prediction.Source.UPLOAD,
        widget=forms.HiddenInput,
    )

    def clean_kind(self):
        return self.cleaned_data["kind"] or Prediction.Kind.DIGIT


class HistoryFilterForm(forms.Form):
    """The history's filters. An invalid one gets its message by its field and is left out; the valid
    ones still filter (cleaned_data keeps them)."""

    digit = forms.TypedChoiceField(
        label=_("Digit"),
        choices=[("", _("Any digit"))] + [(d, str(d)) for d in range(10)],
        coerce=int,
        empty_value=None,
        required=False,
        error_messages={"invalid_choice": _("Choose a digit from 0 to 9.")},
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("Any kind"))] + Prediction.Kind.choices,
                             required=False,
                             error_messages={"invalid_choice": _("Choose one of the kinds listed.")})
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("Any status"))] + Prediction.Status.choices,
                               required=False,
                               error_messages={"invalid_choice": _("Choose one of the statuses listed.")})
    date_from = forms.DateField(
        required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD.")},
    )
    date_to = forms.DateField(
        required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD.")},
    )

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", gettext("This date is before the “From” date."))
        return data

    def full_clean(self):
        super().full_clean()
        for name in self.errors:  # screen readers tie each message to its field
            if name in self.fields:
                self.fields[name].widget.attrs.update(
                    {"aria-invalid": "true", "aria-describedby": f"{self[name].auto_id}-error"}
                )


class PanelWaitForm(forms.Form):
    wait = forms.FloatField(min_value=0, required=False)

    def clean_wait(self):
        # Capped rather than refused: a page asking for longer still gets an answer in time.
        return min(self.cleaned_data["wait"] or 0, settings.RECOGNITION_MAX_WAIT_S)

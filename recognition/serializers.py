import base64
import binascii

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils import html

from .models import Prediction
from .services import check_upload


def _help(field):
    return Prediction._meta.get_field(field).help_text


@extend_schema_field({"type": "array", "items": {"type": "number", "format": "float"}, "minItems": 10, "maxItems": 10})
class ProbabilitiesField(serializers.JSONField):
    """The probability of each digit, 0 to 9."""


@extend_schema_field({"type": "array", "items": {
    "type": "object", "required": ["digit", "box", "confidence"], "properties": {
        "digit": {"type": "string", "pattern": "^[0-9]$"},
        "box": {"type": "array", "items": {"type": "integer"}, "minItems": 4, "maxItems": 4,
                "description": "x, y, width, height in the image's pixels"},
        "confidence": {"type": "number", "format": "float"},
    },
}})
class CharactersField(serializers.JSONField):
    """The digits of a number, left to right, each with its box and probability."""


@extend_schema_field({"type": "object", "additionalProperties": {"type": "number", "format": "float"}})
class TimingsField(serializers.JSONField):
    """Milliseconds per stage: decode, preprocess, infer, total."""


# Declared rather than derived by a ModelSerializer, which rebuilds its fields from the model for
# every object: that was a tenth of the web worker's time per prediction under load.
class PredictionSerializer(serializers.Serializer):
    """A prediction: what was sent and what was read. Read-only."""

    id = serializers.UUIDField(read_only=True)
    url = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=Prediction.Status.choices, read_only=True)
    kind = serializers.ChoiceField(choices=Prediction.Kind.choices, read_only=True, help_text=_help("kind"))
    digit = serializers.IntegerField(read_only=True, allow_null=True, help_text=_help("digit"))
    confidence = serializers.FloatField(
        read_only=True, allow_null=True, help_text="For a number, calibrated: about this share of such readings are right."
    )
    probabilities = ProbabilitiesField(read_only=True, allow_null=True, help_text=_help("probabilities"))
    digits = serializers.CharField(read_only=True, help_text=_help("digits"))
    characters = CharactersField(read_only=True, allow_null=True, help_text=_help("characters"))
    auto_accept = serializers.BooleanField(read_only=True, allow_null=True, help_text=_help("auto_accept"))
    model_version = serializers.CharField(read_only=True)
    timings = TimingsField(read_only=True, help_text=_help("timings"))
    error = serializers.CharField(read_only=True, help_text=_help("error"))
    source = serializers.ChoiceField(choices=Prediction.Source.choices, read_only=True)
    original_name = serializers.CharField(read_only=True, help_text=_help("original_name"))
    width = serializers.IntegerField(read_only=True)
    height = serializers.IntegerField(read_only=True)
    image_url = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)

    def _absolute(self, name, obj):
        return self.context["request"].build_absolute_uri(reverse(name, args=[obj.pk]))

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, obj):
        return self._absolute("api:prediction-detail", obj)

    @extend_schema_field(OpenApiTypes.URI)
    def get_image_url(self, obj):
        return self._absolute("api:prediction-image", obj)


@extend_schema_field({"type": "string", "format": "binary"})
class ImageField(serializers.Field):
    """A multipart file, or a base64 string (a data: URL prefix is allowed) in JSON."""

    default_error_messages = {
        "invalid_base64": _("The image is not valid base64."),
        "invalid_type": _("Send the image as a file (multipart) or as a base64 string (JSON)."),
        "too_many": _("Send one image per request; this one has {count}."),
    }

    def get_value(self, dictionary):
        # A form keeps only the last of several values under one name: take them all, to refuse them.
        if html.is_html_input(dictionary) and len(dictionary.getlist(self.field_name)) > 1:
            return dictionary.getlist(self.field_name)
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        """An uploaded file either way, so that one check serves both."""
        if isinstance(data, list):
            self.fail("too_many", count=len(data))
        if hasattr(data, "read"):
            return data
        if isinstance(data, str):
            encoded = data.split(",", 1)[1] if data.startswith("data:") else data
            try:
                return SimpleUploadedFile("image", base64.b64decode(encoded, validate=True))
            except (binascii.Error, ValueError):
                self.fail("invalid_base64")
        self.fail("invalid_type")


class PredictionCreateSerializer(serializers.Serializer):
    image = ImageField(help_text="The image: a file in multipart, or a base64 string in JSON.")
    name = serializers.CharField(required=False, max_length=255, help_text="A file name to keep with it.")
    kind = serializers.ChoiceField(
        choices=Prediction.Kind.choices, default=Prediction.Kind.DIGIT,
        help_text="digit (the default): one digit; number: a line of several digits, read left to right.",
    )

    def validate(self, attrs):
        image = attrs["image"]
        if attrs.get("name"):
            image.name = attrs["name"]
        try:
            attrs["image"] = check_upload(image)
        except serializers.DjangoValidationError as error:
            raise serializers.ValidationError({"image": serializers.get_error_detail(error)}) from None
        return attrs


class PredictionFilterSerializer(serializers.Serializer):
    """The list's query parameters, as selectors.predictions_of takes them."""

    digit = serializers.IntegerField(required=False, min_value=0, max_value=9, help_text="The digit read (kind digit).")
    kind = serializers.ChoiceField(choices=Prediction.Kind.choices, required=False)
    status = serializers.ChoiceField(choices=Prediction.Status.choices, required=False)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)

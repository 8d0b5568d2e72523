from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from recognition.serializers import CharactersField

from . import selectors
from .models import Batch, BatchItem, ReviewAction


@extend_schema_field({"type": "object", "properties": {
    name: {"type": "integer"} for name in ["total", *BatchItem.State.values]
}})
class CountsField(serializers.Field):
    """Items in all and per state."""

    def to_representation(self, batch):
        return selectors.counts_of(batch)


class BatchItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    position = serializers.IntegerField(read_only=True)
    original_name = serializers.CharField(read_only=True)
    state = serializers.ChoiceField(choices=BatchItem.State.choices, read_only=True)
    prediction = serializers.UUIDField(source="prediction_id", read_only=True)
    digits = serializers.CharField(source="reading", read_only=True, help_text="What was read; empty until done.")
    confidence = serializers.FloatField(source="prediction.confidence", read_only=True, allow_null=True)
    error = serializers.CharField(source="prediction.error", read_only=True)
    final_value = serializers.CharField(
        read_only=True, help_text="The value a reviewer decided (empty when undecided or rejected)."
    )


class ReviewActionSerializer(serializers.Serializer):
    """One row of an item's audit trail."""

    actor = serializers.EmailField(source="actor.email", read_only=True, allow_null=True)
    action = serializers.ChoiceField(choices=ReviewAction.Action.choices, read_only=True)
    state_before = serializers.ChoiceField(choices=BatchItem.State.choices, read_only=True)
    state_after = serializers.ChoiceField(choices=BatchItem.State.choices, read_only=True)
    value_before = serializers.CharField(read_only=True)
    value_after = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class BatchItemDetailSerializer(BatchItemSerializer):
    """An item with what a reviewer needs: the boxes of its digits, the decision and its history."""

    characters = CharactersField(source="prediction.characters", read_only=True, allow_null=True)
    width = serializers.IntegerField(source="prediction.width", read_only=True, allow_null=True)
    height = serializers.IntegerField(source="prediction.height", read_only=True, allow_null=True)
    image_url = serializers.SerializerMethodField()
    decision = serializers.ChoiceField(choices=BatchItem.Decision.choices, read_only=True, allow_blank=True)
    decided_by = serializers.EmailField(source="decided_by.email", read_only=True, allow_null=True)
    decided_at = serializers.DateTimeField(read_only=True, allow_null=True)
    claimed_by = serializers.SerializerMethodField(help_text="Who has it open now (null when nobody).")
    history = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.URI)
    def get_image_url(self, item):
        return self.context["request"].build_absolute_uri(
            reverse("api:batch-item-image", args=[item.batch_id, item.pk])
        )

    @extend_schema_field({"type": "string", "format": "email", "nullable": True})
    def get_claimed_by(self, item):
        live = item.claimed_by_id and item.claimed_until and item.claimed_until > timezone.now()
        return item.claimed_by.email if live else None

    @extend_schema_field(ReviewActionSerializer(many=True))
    def get_history(self, item):
        return ReviewActionSerializer(selectors.history_of(item), many=True).data


class ItemFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=BatchItem.State.choices, required=False)
    confidence_below = serializers.FloatField(min_value=0, max_value=1, required=False,
                                              help_text="Only items read less sure than this (0 to 1).")
    ordering = serializers.ChoiceField(
        choices=["position", "-position", "confidence", "-confidence"], default="position",
        help_text="confidence: lowest first (nothing read counts as lowest); -confidence: highest first.",
    )


class ReviewSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["accept", "correct", "reject", "undo"])
    value = serializers.CharField(required=False, allow_blank=True, max_length=200,
                                  help_text="For correct: the right value, digits only.")

    def validate(self, attrs):
        if attrs["action"] == "correct" and not attrs.get("value", "").strip():
            message = gettext("Send the corrected value, digits only.")
            raise serializers.ValidationError({"value": [message]}, code="required")
        return attrs


class AcceptAboveSerializer(serializers.Serializer):
    confidence = serializers.FloatField(min_value=0, max_value=1, help_text="From 0 to 1, e.g. 0.97.")


class AcceptedSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="How many items were accepted.")


class BatchSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    url = serializers.SerializerMethodField()
    name = serializers.CharField(read_only=True)
    kind = serializers.ChoiceField(choices=Batch.Kind.choices, read_only=True)
    status = serializers.SerializerMethodField()
    threshold = serializers.FloatField(read_only=True, allow_null=True)
    counts = CountsField(source="*", read_only=True)
    skipped = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()), read_only=True,
        help_text="The files not taken, each with its name and the reason.",
    )
    created_by = serializers.EmailField(source="created_by.email", read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, batch):
        return self.context["request"].build_absolute_uri(reverse("api:batch-detail", args=[batch.pk]))

    @extend_schema_field({"type": "string", "enum": ["reading", "read"]})
    def get_status(self, batch):
        return "read" if selectors.progress_of(batch)["finished"] else "reading"


class BatchDetailSerializer(BatchSerializer):
    items = serializers.SerializerMethodField()

    @extend_schema_field(BatchItemSerializer(many=True))
    def get_items(self, batch):
        return BatchItemSerializer(selectors.items_of(batch), many=True).data


class BatchCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=Batch.Kind.choices)
    files = serializers.ListField(child=serializers.FileField(), required=False, help_text="The images.")
    archive = serializers.FileField(required=False, help_text="Or a .zip of images.")

    def validate(self, attrs):
        if not attrs.get("files") and not attrs.get("archive"):
            message = gettext("Send some images (files) or a .zip of them (archive).")
            raise serializers.ValidationError({"files": [message]})
        return attrs


class ExportQuerySerializer(serializers.Serializer):
    all = serializers.BooleanField(
        default=False,
        help_text="Every item; by default only the settled ones (accepted, corrected, accepted automatically).",
    )


class ExportRowSerializer(serializers.Serializer):
    """One item of an export (the schema of the JSON export; the CSV export has the same columns)."""

    position = serializers.IntegerField()
    file_name = serializers.CharField()
    reading = serializers.CharField(help_text="What the engine read; empty when nothing was found.")
    final_value = serializers.CharField(
        help_text="The person's value, the reading when accepted automatically; empty when rejected or not "
        "settled."
    )
    confidence = serializers.FloatField(allow_null=True)
    state = serializers.ChoiceField(choices=BatchItem.State.choices)
    reviewer = serializers.CharField(help_text="The e-mail of who decided; empty when nobody did.")
    decided_at = serializers.DateTimeField(allow_null=True)
    read_at = serializers.DateTimeField(allow_null=True)
    model_version = serializers.CharField()
    batch_name = serializers.CharField()

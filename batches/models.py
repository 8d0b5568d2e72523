import uuid

from django.conf import settings
from django.db import models

from accounts.models import Organization
from recognition.models import Prediction


class Batch(models.Model):
    """Many images an official sends at once for their organization; each becomes one item."""

    class Kind(models.TextChoices):
        AMOUNT = "amount", "Amounts"
        NUMBER = "number", "Numbers (account numbers and the like)"
        DIGIT = "digit", "Single digits"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="batches")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="batches"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    threshold = models.FloatField(
        null=True, blank=True,
        help_text="For digits: the confidence from which an item is accepted automatically. Amounts and numbers "
        "use the string reader's own acceptance (its model card's calibrated threshold).",
    )
    skipped = models.JSONField(
        default=list, blank=True, help_text="The files that were not taken, each with the reason: [{name, reason}]."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "batches"

    def __str__(self):
        return self.name

    @property
    def prediction_kind(self):
        return Prediction.Kind.DIGIT if self.kind == self.Kind.DIGIT else Prediction.Kind.NUMBER


class BatchItem(models.Model):
    """One image of a batch. Its state is derived from its prediction (see selectors), never stored twice."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        NEEDS_REVIEW = "needs_review", "Needs review"
        AUTO_ACCEPTED = "auto_accepted", "Accepted automatically"
        FAILED = "failed", "Failed"

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="items")
    prediction = models.OneToOneField(Prediction, on_delete=models.CASCADE, related_name="batch_item")
    original_name = models.CharField(max_length=255, blank=True)
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["batch", "position"]
        constraints = [models.UniqueConstraint(fields=["batch", "position"], name="batch_item_position_unique")]

    def __str__(self):
        return f"{self.batch} #{self.position}"

    @property
    def reading(self):
        """What the engine read, as text: empty while pending, when failed or when nothing was found."""
        prediction = self.prediction
        if prediction.status != Prediction.Status.DONE:
            return ""
        if prediction.is_number:
            return prediction.digits
        return "" if prediction.digit is None else str(prediction.digit)

    @property
    def confidence_percent(self):
        confidence = self.prediction.confidence
        return None if confidence is None else round(confidence * 100, 1)

    @property
    def state_label(self):
        return self.State(self.state).label  # ``state`` is annotated by selectors.items_of

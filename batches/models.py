import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from recognition.models import Prediction


class Batch(models.Model):
    """Many images an official sends at once for their organization; each becomes one item."""

    class Kind(models.TextChoices):
        AMOUNT = "amount", _("Amounts")
        NUMBER = "number", _("Numbers (account numbers and the like)")
        DIGIT = "digit", _("Single digits")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="batches")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="batches"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    threshold = models.FloatField(
        help_text="The calibrated confidence from which an item is accepted automatically, fixed when the batch "
        "is created: the organization's setting, else the default for the kind (the string reader's model card "
        "for amounts and numbers, BATCH_DIGIT_ACCEPT_AT for digits).",
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
    """One image of a batch. Its state is derived from its prediction and the reviewer's decision (see
    selectors), never stored twice. The engine's reading stays in the prediction, never overwritten."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        NEEDS_REVIEW = "needs_review", _("Needs review")
        AUTO_ACCEPTED = "auto_accepted", _("Accepted automatically")
        ACCEPTED = "accepted", _("Accepted")
        CORRECTED = "corrected", _("Corrected")
        REJECTED = "rejected", _("Rejected (unreadable)")
        FAILED = "failed", _("Failed")

    class Decision(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        CORRECTED = "corrected", _("Corrected")
        REJECTED = "rejected", _("Rejected (unreadable)")

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="items")
    prediction = models.OneToOneField(Prediction, on_delete=models.CASCADE, related_name="batch_item")
    original_name = models.CharField(max_length=255, blank=True)
    position = models.PositiveIntegerField()
    # A person's decision; empty until someone decides (the state is then derived from the prediction).
    decision = models.CharField(max_length=16, choices=Decision.choices, blank=True)
    final_value = models.CharField(max_length=64, blank=True, help_text="The value decided; empty when rejected.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # A reviewer holds the item while it is open on their screen, so that two do not do it twice.
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    claimed_until = models.DateTimeField(null=True, blank=True)

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


class ReviewAction(models.Model):
    """The audit trail: one row per change of an item's decision, never updated or deleted."""

    class Action(models.TextChoices):
        ACCEPT = "accept", _("Accepted")
        CORRECT = "correct", _("Corrected")
        REJECT = "reject", _("Rejected")
        BULK_ACCEPT = "bulk_accept", _("Accepted in bulk")
        UNDO = "undo", _("Undone")

    item = models.ForeignKey(BatchItem, on_delete=models.CASCADE, related_name="actions")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    action = models.CharField(max_length=16, choices=Action.choices)
    state_before = models.CharField(max_length=16, choices=BatchItem.State.choices)
    state_after = models.CharField(max_length=16, choices=BatchItem.State.choices)
    value_before = models.CharField(max_length=64, blank=True)
    value_after = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["item", "created_at", "pk"]

    def __str__(self):
        return f"{self.item}: {self.get_action_display()} by {self.actor}"

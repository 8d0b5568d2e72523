import math
import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def _private_path(folder, instance, filename):
    # Random names in per-user folders: nothing about the upload leaks into the path.
    return f"{folder}/{instance.owner_id}/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


def image_path(instance, filename):
    return _private_path("predictions", instance, filename)


def thumbnail_path(instance, filename):
    return _private_path("thumbnails", instance, filename)


class Prediction(models.Model):
    """One image read by the engine: what was sent, and what was read once the task ran."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Source(models.TextChoices):
        DRAWING = "drawing", _("Drawing")
        UPLOAD = "upload", _("Upload")
        API = "api", _("API")

    class Kind(models.TextChoices):
        DIGIT = "digit", _("One digit")
        NUMBER = "number", _("A number (several digits)")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="predictions")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.UPLOAD)
    kind = models.CharField(
        max_length=16, choices=Kind.choices, default=Kind.DIGIT,
        help_text="digit: one digit, read with its ten probabilities; number: a line of digits, read left to right.",
    )
    original_name = models.CharField(max_length=255, blank=True, help_text="The file name the client gave.")
    image = models.FileField(upload_to=image_path, max_length=255)
    thumbnail = models.FileField(upload_to=thumbnail_path, max_length=255, blank=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    digit = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty when no digit was found.")
    confidence = models.FloatField(null=True, blank=True)
    probabilities = models.JSONField(null=True, blank=True, help_text="Ten probabilities, for 0 to 9.")
    # A text field, not a bounded CharField: a long line of ink may read as more digits than any bound.
    digits = models.TextField(blank=True, help_text="For a number: the digits read, left to right; empty when none.")
    characters = models.JSONField(
        null=True, blank=True,
        help_text="For a number: each digit read, left to right, with its box [x, y, width, height] in the "
        "image's pixels and its probability.",
    )
    auto_accept = models.BooleanField(
        null=True, blank=True, help_text="For a number: sure enough to be accepted without a person checking it."
    )
    model_version = models.CharField(max_length=64, blank=True)
    timings = models.JSONField(default=dict, blank=True, help_text="Milliseconds per stage.")
    error = models.TextField(blank=True, help_text="Why reading failed, in words for the user.")
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Readings started; more than one means a worker stopped while reading it."
    )

    idempotency_key = models.CharField(
        max_length=255, blank=True, help_text="The API client's Idempotency-Key, unique per owner."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="prediction_owner_recent")]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="prediction_idempotency_key_unique",
            )
        ]

    def __str__(self):
        return f"{self.get_source_display()} {self.id} ({self.status})"

    @property
    def has_ended(self):
        return self.status != self.Status.PENDING

    @property
    def is_pending(self):
        return self.status == self.Status.PENDING

    @property
    def is_number(self):
        return self.kind == self.Kind.NUMBER

    @property
    def found_no_digit(self):
        return self.status == self.Status.DONE and (not self.digits if self.is_number else self.digit is None)

    @property
    def confidence_percent(self):
        """The confidence in percent, rounded down to a tenth: 0.9996 shows as 99.9, never as a 100 it is not."""
        return None if self.confidence is None else math.floor(round(self.confidence * 1000, 6)) / 10

    @property
    def is_unsure(self):
        if self.status != self.Status.DONE or self.found_no_digit:
            return False
        # A number is unsure when its calibrated confidence is below the reader's acceptance threshold.
        return not self.auto_accept if self.is_number else self.confidence < settings.RECOGNITION_UNSURE_BELOW


class Heartbeat(models.Model):
    """When a periodic job (the sweeper) last ran, so that the health check can tell it stopped."""

    name = models.CharField(max_length=64, primary_key=True)
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy as _


class Organization(models.Model):
    """A bank or a branch; its officials share the batches filed under it."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    auto_accept_threshold = models.FloatField(
        _("auto-accept threshold"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0.5), MaxValueValidator(1.0)],
        help_text=_("Calibrated confidence from which a batch item is accepted without review. "
                    "Empty: the model card's default for the kind of item."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self):
        return self.name


class UserManager(BaseUserManager):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email):
        # Addresses are stored lower-case, so one unique index makes them case-insensitive.
        return (email or "").strip().lower()

    def get_by_natural_key(self, email):
        return self.get(email=self.normalize_email(email))

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser needs is_staff=True and is_superuser=True.")
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an e-mail address, stored lower-case."""

    class Role(models.TextChoices):
        USER = "user", _("User")
        OFFICIAL = "official", _("Bank official")

    email = models.EmailField(
        _("e-mail address"),
        max_length=254,
        unique=True,
        error_messages={"unique": _("A user with this e-mail address already exists.")},
    )
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.USER)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        help_text=_("Required for bank officials: the bank or branch whose batches they work on."),
    )
    is_staff = models.BooleanField(
        _("staff status"), default=False, help_text=_("Can log into the admin site.")
    )
    is_active = models.BooleanField(_("is active"), default=True)
    is_org_admin = models.BooleanField(
        _("organization administrator"),
        default=False,
        help_text=_("Manages the organization's members, invitations and settings. Bank officials only."),
    )
    # Set by the organization's administrators (or staff), apart from is_active, the staff's own switch:
    # reinstating never reopens an account staff closed, and the date says since when.
    suspended_at = models.DateTimeField(
        _("suspended at"), null=True, blank=True, editable=False,
        help_text=_("Suspended officials can neither log in nor use their API token."),
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="official") | models.Q(organization__isnull=False),
                name="accounts_official_has_organization",
                violation_error_message=_("A bank official must belong to an organization."),
            ),
            models.CheckConstraint(
                condition=models.Q(is_org_admin=False) | models.Q(role="official"),
                name="accounts_org_admin_is_official",
                violation_error_message=_("Only a bank official can administer an organization."),
            ),
        ]

    def __str__(self):
        return self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email)

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def is_official(self):
        return self.role == self.Role.OFFICIAL

    @property
    def is_suspended(self):
        return self.suspended_at is not None


class Invitation(models.Model):
    """An e-mailed, signed link that makes whoever holds the address an official of the organization."""

    # Its state, as the organization's page shows it.
    STATES = {"accepted": _("Accepted"), "revoked": _("Revoked"), "expired": _("Expired"),
              "pending": _("Pending")}

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations",
                                     verbose_name=_("organization"))
    email = models.EmailField(_("e-mail address"), max_length=254)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+",
                                   verbose_name=_("invited by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                    verbose_name=_("accepted by"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self):
        return f"{self.email} to {self.organization}"

    @property
    def expires_at(self):
        return self.created_at + timedelta(days=settings.INVITATION_MAX_AGE_DAYS)

    @property
    def state(self):
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        return "expired" if self.expires_at <= timezone.now() else "pending"

    def get_state_display(self):
        return self.STATES[self.state]


class JoinRequest(models.Model):
    """A user's request to become an official of an organization, for its administrators to decide."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="join_requests",
                             verbose_name=_("user"))
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="join_requests",
                                     verbose_name=_("organization"))
    message = models.CharField(_("message"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                   verbose_name=_("decided by"))

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("join request")
        verbose_name_plural = _("join requests")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"], condition=models.Q(status="pending"),
                name="accounts_one_pending_join_request",
                violation_error_message=_("You have already asked to join this organization."),
            ),
        ]

    def __str__(self):
        return f"{self.user} to {self.organization} ({self.status})"


class MembershipEvent(models.Model):
    """The audit trail of membership: who did what to whom, in which organization, when."""

    class Action(models.TextChoices):
        # Verbs of the sentences of describe(): "someone invited x@example.com", "a suspended b".
        INVITED = "invited", _("invited")
        INVITATION_REVOKED = "invitation_revoked", _("revoked an invitation")
        INVITATION_ACCEPTED = "invitation_accepted", _("accepted an invitation")
        JOIN_REQUESTED = "join_requested", _("asked to join")
        JOIN_APPROVED = "join_approved", _("approved a join request")
        JOIN_DECLINED = "join_declined", _("declined a join request")
        SUSPENDED = "suspended", _("suspended")
        REINSTATED = "reinstated", _("reinstated")
        ADMIN_GRANTED = "admin_granted", _("made administrator")
        ADMIN_REVOKED = "admin_revoked", _("removed as administrator")
        SETTINGS_CHANGED = "settings_changed", _("changed the settings")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="membership_events",
                                     verbose_name=_("organization"))
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+",
                              verbose_name=_("actor"))
    subject = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                verbose_name=_("subject"))
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("membership event")
        verbose_name_plural = _("membership events")

    def __str__(self):
        return f"{self.actor} {self.get_action_display()} {self.subject or self.detail}"

    def describe(self):
        """The event as one sentence of the active language, for the organization's page."""
        words = {"actor": self.actor or gettext("someone"), "action": self.get_action_display(),
                 "subject": self.subject, "detail": self.detail}
        if self.subject and self.detail:
            return gettext("%(actor)s %(action)s %(subject)s (%(detail)s)") % words
        if self.subject:
            return gettext("%(actor)s %(action)s %(subject)s") % words
        if self.detail:
            return gettext("%(actor)s %(action)s (%(detail)s)") % words
        return gettext("%(actor)s %(action)s") % words

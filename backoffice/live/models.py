"""A notification for one person: stored, shown in the header's bell, pushed live when it is created.

No history: a notification is a message to its reader, not business data; the change it reports
already has its own history record."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backoffice.models import BaseModel


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(user=user)

    def unread(self):
        return self.filter(read_at__isnull=True)

    def mark_read(self) -> int:
        return self.filter(read_at__isnull=True).update(read_at=timezone.now(), updated_at=timezone.now())


class Notification(BaseModel):
    class Level(models.TextChoices):
        INFO = "info", _("Information")
        SUCCESS = "success", _("Success")
        WARNING = "warning", _("Warning")
        ERROR = "error", _("Error")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("user")
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True, max_length=2000)
    url = models.CharField(_("link"), max_length=500, blank=True)
    level = models.CharField(_("level"), max_length=8, choices=Level.choices, default=Level.INFO)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        indexes = [
            # The bell: a person's latest notifications and their unread count.
            models.Index(fields=["user", "-created_at"], name="notification_user_latest"),
            models.Index(fields=["user"], condition=models.Q(read_at__isnull=True), name="notification_user_unread"),
        ]

    def __str__(self) -> str:
        return self.title

    def as_event(self) -> dict:
        return {
            "id": str(self.pk),
            "title": self.title,
            "body": self.body,
            "url": self.url,
            "level": self.level,
            "created_at": self.created_at.isoformat(),
            "read": self.read_at is not None,
        }

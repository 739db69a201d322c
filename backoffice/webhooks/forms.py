from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from backoffice.webhooks.addresses import MAX_URL_LENGTH, validate_endpoint_url
from backoffice.webhooks.choices import SUBSCRIBABLE
from backoffice.webhooks.models import WebhookEndpoint


class WebhookEndpointForm(forms.ModelForm):
    url = forms.CharField(
        label=_("URL"),
        max_length=MAX_URL_LENGTH,
        help_text=_("https://… (http only while developing). It must not point to a private or local address."),
    )
    events = forms.MultipleChoiceField(label=_("events"), choices=SUBSCRIBABLE, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "events", "is_active"]

    def clean_url(self):
        url = self.cleaned_data["url"].strip()
        validate_endpoint_url(url)
        return url

    def clean_events(self):
        events = self.cleaned_data["events"]
        if not events:
            raise ValidationError(_("Choose at least one event."))
        return events

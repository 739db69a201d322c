from decimal import Decimal

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from unfold.forms import BaseDialogForm
from unfold.widgets import UnfoldAdminDecimalFieldWidget, UnfoldAdminIntegerFieldWidget, UnfoldAdminTextInputWidget

from backoffice.fields import SafeAutocompleteSelect
from catalog.models import Product
from orders import services
from orders.models import ADDRESS_FIELD_NAMES, Customer, Order, OrderLine

CARRIERS_HELP = _("For example DHL, UPS, DPD, GLS or a courier's name.")


class ShipDialogForm(BaseDialogForm):
    carrier = forms.CharField(
        label=_("Carrier"), max_length=60, help_text=CARRIERS_HELP, widget=UnfoldAdminTextInputWidget
    )
    tracking_number = forms.CharField(
        label=_("Tracking number"), max_length=80, required=False, widget=UnfoldAdminTextInputWidget
    )


class ShipForm(forms.Form):
    carrier = forms.CharField(
        label=_("Carrier"), max_length=60, help_text=CARRIERS_HELP, widget=UnfoldAdminTextInputWidget
    )


class UnfoldAutocomplete(SafeAutocompleteSelect):
    """Django's autocomplete select with Unfold's look."""

    def __init__(self, field, admin_site=None, attrs=None):
        super().__init__(field, admin_site or admin.site, attrs={"class": "unfold-admin-autocomplete", **(attrs or {})})


class PlaceOrderForm(forms.Form):
    customer = forms.ModelChoiceField(
        label=_("Customer"),
        queryset=Customer.objects.all(),
        widget=UnfoldAutocomplete(Order._meta.get_field("customer")),
    )
    discount = forms.DecimalField(
        label=_("Discount"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        initial=Decimal("0"),
        widget=UnfoldAdminDecimalFieldWidget,
    )
    shipping = forms.DecimalField(
        label=_("Shipping"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        initial=Decimal("0"),
        widget=UnfoldAdminDecimalFieldWidget,
    )


class LineForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.all(),
        widget=UnfoldAutocomplete(OrderLine._meta.get_field("product")),
    )
    quantity = forms.IntegerField(
        label=_("Quantity"), min_value=1, max_value=100_000, widget=UnfoldAdminIntegerFieldWidget
    )


class BaseLineFormSet(forms.BaseFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        if not [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]:
            raise forms.ValidationError(_("Add at least one line."))


LineFormSet = forms.formset_factory(LineForm, formset=BaseLineFormSet, extra=3, max_num=200, validate_max=True)


class CustomerAdminForm(forms.ModelForm):
    """The customer change form. It validates with the service's rules (email normalised and free among live
    customers, the model's own address rules through full_clean); the admin then saves through the service."""

    class Meta:
        model = Customer
        fields = ["name", "email", "company", "phone", "is_vip", "notes", *ADDRESS_FIELD_NAMES]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("email"):
            cleaned["email"] = services.normalise_email(cleaned["email"])
            try:
                services.check_email_free(cleaned["email"], exclude=self.instance)
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned

import factory
from django.contrib.auth.models import Permission, User

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(PASSWORD)
    is_staff = False

    @factory.post_generation
    def perms(self, create, extracted, **kwargs):
        """``UserFactory(perms=["backoffice.view_job"])``"""
        if not create or not extracted:
            return
        for codename in extracted:
            app_label, name = codename.split(".")
            self.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=name))


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "catalog.Category"

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
    path = factory.LazyAttribute(lambda c: c.name)


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "catalog.Brand"

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "catalog.Supplier"

    code = factory.Sequence(lambda n: f"SUP{n:04d}")
    name = factory.Sequence(lambda n: f"Supplier {n}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "catalog.Tag"

    name = factory.Sequence(lambda n: f"tag-{n}")
    slug = factory.Sequence(lambda n: f"tag-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "catalog.Product"

    sku = factory.Sequence(lambda n: f"SKU-{n:06d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    category = factory.SubFactory(CategoryFactory)
    brand = factory.SubFactory(BrandFactory)
    price = factory.Faker("pydecimal", left_digits=3, right_digits=2, min_value=1, max_value=500)
    cost = factory.LazyAttribute(lambda p: (p.price * 6 / 10).quantize(p.price))
    stock = 50
    status = "active"


class CustomerFactory(factory.django.DjangoModelFactory):
    """A customer with a complete billing address and no shipping address (orders ship to billing)."""

    class Meta:
        model = "orders.Customer"

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    name = factory.Sequence(lambda n: f"Customer {n}")
    billing_name = factory.LazyAttribute(lambda c: c.name)
    billing_line1 = factory.Sequence(lambda n: f"{n % 200 + 1} Analytical Way")
    billing_postal_code = "10115"
    billing_city = "Berlin"
    billing_country = "DE"

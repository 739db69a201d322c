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

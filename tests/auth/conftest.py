import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """These tests log in dozens of times: a fast hasher, set before any user is created."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

import pytest
from django.core.cache import caches
from django.test import Client

from backoffice.api import keys
from backoffice.api.keys import issue_key
from backoffice.api.models import Scope

ALL_SCOPES = list(Scope.values)


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    """Each test starts with empty rate-limit counters and limits no test reaches by accident, and no key
    cached by an earlier test."""
    keys.forget()
    caches["locks"].clear()
    settings.API_RATE_LIMIT_PER_KEY = 100_000
    settings.API_RATE_LIMIT_PER_IP = 100_000
    yield
    caches["locks"].clear()


class ApiClient(Client):
    """The test client with a Bearer key and JSON bodies."""

    def __init__(self, secret: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.secret = secret

    def _auth(self, extra):
        if self.secret and "HTTP_AUTHORIZATION" not in extra:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {self.secret}"
        return extra

    def get(self, path, data=None, **extra):
        return super().get(path, data, **self._auth(extra))

    def post(self, path, data=None, content_type="application/json", **extra):
        return super().post(path, data, content_type=content_type, **self._auth(extra))

    def patch(self, path, data=None, content_type="application/json", **extra):
        return super().patch(path, data, content_type=content_type, **self._auth(extra))

    def put(self, path, data=None, content_type="application/json", **extra):
        return super().put(path, data, content_type=content_type, **self._auth(extra))

    def delete(self, path, data=None, content_type="application/json", **extra):
        return super().delete(path, data, content_type=content_type, **self._auth(extra))


@pytest.fixture
def make_key(db):
    def make(scopes=ALL_SCOPES, **kwargs):
        return issue_key(name=kwargs.pop("name", "test integration"), scopes=scopes, **kwargs)

    return make


@pytest.fixture
def key_and_secret(make_key):
    return make_key()


@pytest.fixture
def api(key_and_secret):
    return ApiClient(key_and_secret[1])


@pytest.fixture
def api_for(make_key):
    def client(*scopes):
        return ApiClient(make_key(list(scopes))[1])

    return client


@pytest.fixture
def anon():
    return ApiClient()

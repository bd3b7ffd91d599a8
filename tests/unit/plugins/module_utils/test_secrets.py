"""The secret orchestration's parts that need no module run: option checks, the proof's wait, addPassword's
fallback lifetimes against FakeGraph (the module's tests in tests/unit/plugins/modules/test_azure_app_secret.py
cover the rest)."""

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.moduscloud.azure_sync.plugins.module_utils import _secret_lifetime
from ansible_collections.moduscloud.azure_sync.plugins.module_utils import _secrets as secrets
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._auth_base import TokenError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import SecretError

from ..fake_time import FakeTime
from ..modules.fake_graph import FakeGraph, client_of

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


# Options -------------------------------------------------------------------------------------------


def options(**overrides):
    params = {
        "description": "modusCloud",
        "state": "present",
        "lifetime_days": None,
        "end_date": None,
        "never_expires": False,
        "rotate_before_days": 30,
        "keep_key_id": None,
        "force_rotate": False,
        "wait_timeout": 180,
    }
    params.update(overrides)
    return params


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"description": " "}, "description must not be empty"),
        ({"lifetime_days": 365, "never_expires": True}, "lifetime_days and never_expires are mutually exclusive"),
        ({"end_date": "2027-01-01", "lifetime_days": 30}, "mutually exclusive"),
        ({"lifetime_days": 0}, "lifetime_days must be 1 or more"),
        ({"rotate_before_days": -1}, "rotate_before_days must be 0 or more"),
        ({"lifetime_days": 20}, "rotate_before_days"),
        ({"end_date": "2026-02-01"}, "not in the future"),
        ({"end_date": "2026-03-20"}, "rotate_before_days"),
        ({"end_date": "next year"}, "end_date: 'next year' is not an ISO 8601 date"),
        ({"keep_key_id": "k1"}, "keep_key_id 'k1' is not a key id"),
        ({"state": "absent", "force_rotate": True}, "force_rotate only apply to state=present"),
    ],
)
def test_bad_options_are_refused_before_any_request(overrides, message):
    with pytest.raises(SecretError) as caught:
        secrets.check_options(options(**overrides), NOW)
    assert message in str(caught.value)


def test_never_expires_false_does_not_conflict_with_a_lifetime():
    assert secrets.check_options(options(lifetime_days=365, never_expires=False), NOW) is None
    assert secrets.check_options(options(end_date="2027-01-01"), NOW) == datetime(2027, 1, 1, tzinfo=timezone.utc)


# Proving a new secret works ---------------------------------------------------------------------------


def token_attempts(*outcomes):
    """acquire() that fails with the given AADSTS codes in turn, then succeeds (None = success)."""
    queue = list(outcomes)

    def acquire():
        codes = queue.pop(0)
        if codes is None:
            return "token"
        raise TokenError("app", "tenant", code="invalid_client", message="AADSTS%d: rejected" % codes[0], error_codes=codes)

    return acquire


def test_propagation_errors_are_retried_with_growing_delays_until_a_token_comes():
    clock = FakeTime()
    attempts = secrets.wait_until_usable(token_attempts([7000215], [7000222], [700016], None), 60, sleep=clock.sleep, clock=clock.monotonic)
    assert attempts == 4 and clock.sleeps == [1.0, 2.0, 4.0]


def test_the_wait_is_bounded_by_the_timeout():
    clock = FakeTime()
    with pytest.raises(SecretError, match="still rejected after .* in 10 seconds"):
        secrets.wait_until_usable(token_attempts(*([[7000215]] * 50)), 10, sleep=clock.sleep, clock=clock.monotonic)
    assert sum(clock.sleeps) <= 10


def test_a_sign_in_host_that_throttles_or_fails_is_waited_for_honouring_its_retry_after():
    failures = [
        TokenError("app", "tenant", status=503, transient=True),
        TokenError("app", "tenant", status=429, transient=True, retry_after=9),
        TokenError("app", "tenant", message="ConnectionError: refused", transient=True),
    ]

    def acquire():
        if failures:
            raise failures.pop(0)
        return "token"

    clock = FakeTime()
    assert secrets.wait_until_usable(acquire, 60, sleep=clock.sleep, clock=clock.monotonic) == 4
    assert clock.sleeps == [1.0, 9.0, 4.0]


def test_an_error_that_is_not_propagation_ends_the_wait_at_once():
    clock = FakeTime()
    with pytest.raises(SecretError, match="does not obtain a token.*AADSTS700027"):
        secrets.wait_until_usable(token_attempts([700027]), 60, sleep=clock.sleep, clock=clock.monotonic)
    assert clock.sleeps == []


# Creating against a tenant policy that could not be read --------------------------------------------------


def policy_graph(max_days):
    """FakeGraph whose addPassword refuses lifetimes over `max_days` as Graph does, with one application."""
    fake = FakeGraph()
    fake.password_max_days = max_days
    return fake, fake.add_application("modusCloud")["id"]


def lifetimes_tried(fake):
    """The lifetime in days of each addPassword request, in order."""
    bodies = [call["body"]["passwordCredential"] for call in fake.calls if call["path"].endswith("/addPassword")]
    return [(_secret_lifetime.parse_datetime(body["endDateTime"]) - _secret_lifetime.parse_datetime(body["startDateTime"])).days for body in bodies]


def test_a_refused_lifetime_is_shortened_to_the_longest_usual_limit_accepted():
    fake, object_id = policy_graph(max_days=200)
    credential, warnings = secrets.add_secret(client_of(fake), object_id, "modusCloud", NOW, NOW + 730 * DAY)
    assert lifetimes_tried(fake) == [730, 365, 180]
    assert credential["endDateTime"] == "2026-08-28T12:00:00Z"
    assert "lifetime of 730 days was refused" in warnings[0] and "got 180 days" in warnings[0]
    assert "could not be read" in warnings[0]


def test_a_refused_lifetime_fails_clearly_when_shortening_is_off():
    fake, object_id = policy_graph(max_days=200)
    with pytest.raises(SecretError, match="refuses a secret lifetime of 730 days.*clamp_to_policy"):
        secrets.add_secret(client_of(fake), object_id, "modusCloud", NOW, NOW + 730 * DAY, shorten=False)
    assert lifetimes_tried(fake) == [730]

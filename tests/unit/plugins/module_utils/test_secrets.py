from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.moduscloud.azure_sync.plugins.module_utils import _secrets as secrets
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph import TokenError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._http import ApiError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._secrets import (
    PasswordPolicy,
    Secret,
    SecretError,
)

from ..fake_time import FakeTime

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
NO_LIMIT = PasswordPolicy(True, None, False)
LIMIT_180 = PasswordPolicy(True, 180 * DAY, False)


def secret(key_id, starts_days_ago, ends_in_days, description="modusCloud"):
    return Secret(key_id, description, "Ab1", NOW - starts_days_ago * DAY, NOW + ends_in_days * DAY)


# Dates and durations -------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("2027-01-31T08:15:30.1234567Z", datetime(2027, 1, 31, 8, 15, 30, 123456, tzinfo=timezone.utc)),
    ("2027-01-31T10:15:30+02:00", datetime(2027, 1, 31, 8, 15, 30, tzinfo=timezone.utc)),
    ("2027-01-31", datetime(2027, 1, 31, tzinfo=timezone.utc)),
])
def test_graph_dates_and_user_dates_parse_to_utc(text, expected):
    assert secrets.parse_datetime(text) == expected


def test_a_date_that_is_not_iso_8601_is_refused_with_an_example():
    with pytest.raises(ValueError, match="2027-01-31"):
        secrets.parse_datetime("31/01/2027")


@pytest.mark.parametrize("text, days", [("P180D", 180), ("P1Y", 365), ("P1Y6M", 545), ("PT4320H", 180),
                                        ("P2W", 14), ("P89DT24H", 90)])
def test_policy_durations_are_read_as_entra_reads_them(text, days):
    assert secrets.parse_duration(text) == timedelta(days=days)


@pytest.mark.parametrize("text", ["P", "180D", "PT", "P1H"])
def test_malformed_durations_are_refused(text):
    with pytest.raises(ValueError):
        secrets.parse_duration(text)


def test_days_remaining_counts_whole_days_and_goes_negative_after_expiry():
    assert secrets.days_remaining(NOW + timedelta(days=29, hours=23), NOW) == 29
    assert secrets.days_remaining(NOW - timedelta(hours=1), NOW) == -1


# Tenant policy ---------------------------------------------------------------------------------

def policy_document(*restrictions, **fields):
    document = {"id": "00000000-0000-0000-0000-000000000000", "isEnabled": True,
                "applicationRestrictions": {"passwordCredentials": list(restrictions)}}
    document.update(fields)
    return document


def test_the_password_lifetime_restriction_sets_the_maximum():
    document = policy_document({"restrictionType": "passwordLifetime", "maxLifetime": "P180D",
                                "restrictForAppsCreatedAfterDateTime": "2015-01-01T00:00:00Z"})
    assert secrets.password_policy(document, "2025-06-01T00:00:00Z") == LIMIT_180


def test_the_strictest_of_several_lifetime_restrictions_wins():
    document = policy_document({"restrictionType": "passwordLifetime", "maxLifetime": "P1Y"},
                               {"restrictionType": "passwordLifetime", "maxLifetime": "P90D"})
    assert secrets.password_policy(document).max_lifetime == 90 * DAY


@pytest.mark.parametrize("document, created", [
    (policy_document({"restrictionType": "passwordLifetime", "maxLifetime": "P90D"}, isEnabled=False), None),
    (policy_document({"restrictionType": "passwordLifetime", "maxLifetime": "P90D", "state": "disabled"}), None),
    # The restriction only binds apps created after its date.
    (policy_document({"restrictionType": "passwordLifetime", "maxLifetime": "P90D",
                      "restrictForAppsCreatedAfterDateTime": "2025-01-01T00:00:00Z"}), "2024-12-31T00:00:00Z"),
])
def test_restrictions_that_do_not_bind_the_app_are_ignored(document, created):
    assert secrets.password_policy(document, created) == NO_LIMIT


def test_a_password_addition_restriction_blocks_new_secrets():
    document = policy_document({"restrictionType": "passwordAddition"})
    assert secrets.password_policy(document).additions_blocked is True


# Lifetime of a new secret ------------------------------------------------------------------------

def test_a_lifetime_within_the_policy_is_kept_without_warning():
    end, warnings = secrets.fit_to_policy(NOW, NOW + 90 * DAY, LIMIT_180)
    assert end == NOW + 90 * DAY and warnings == []


def test_a_lifetime_over_the_policy_is_clamped_to_its_maximum_with_a_warning():
    end, warnings = secrets.fit_to_policy(NOW, NOW + 730 * DAY, LIMIT_180)
    assert end == NOW + 180 * DAY
    assert len(warnings) == 1 and "730 days" in warnings[0] and "180 days" in warnings[0]


def test_without_clamping_a_lifetime_over_the_policy_fails_naming_the_maximum():
    with pytest.raises(SecretError, match="at most 180 days.*clamp_to_policy"):
        secrets.fit_to_policy(NOW, NOW + 730 * DAY, LIMIT_180, clamp=False)


def test_never_expires_takes_the_policy_maximum_even_without_clamping():
    end, warnings = secrets.fit_to_policy(NOW, secrets.requested_end(NOW, never_expires=True), LIMIT_180,
                                          clamp=False, never_expires=True)
    assert end == NOW + 180 * DAY
    assert "never_expires" in warnings[0] and "2026-08-28" in warnings[0]


def test_never_expires_without_a_policy_asks_for_99_years():
    wanted = secrets.requested_end(NOW, never_expires=True)
    end, warnings = secrets.fit_to_policy(NOW, wanted, NO_LIMIT, never_expires=True)
    assert end == wanted and end.year == 2125 and warnings == []


@pytest.mark.parametrize("options, end", [
    ({}, NOW + 730 * DAY),
    ({"lifetime_days": 90}, NOW + 90 * DAY),
    ({"end_date": NOW + 10 * DAY}, NOW + 10 * DAY),
])
def test_the_requested_end_follows_the_options(options, end):
    assert secrets.requested_end(NOW, **options) == end


def test_a_lifetime_inside_the_rotation_window_is_refused():
    with pytest.raises(SecretError, match="rotate_before_days"):
        secrets.check_rotation_window(30 * DAY, 30)
    secrets.check_rotation_window(31 * DAY, 30)


def test_fallback_lifetimes_are_the_usual_limits_below_the_refused_one():
    assert secrets.fallback_lifetimes(200 * DAY) == [timedelta(days=days) for days in (180, 90, 30, 7, 1)]


# Which secret to keep, create or remove ------------------------------------------------------------

def plan(secret_list, **options):
    return secrets.plan_present(secret_list, NOW, **options)


def test_no_secret_means_create_without_rotation():
    result = plan([])
    assert result.create and not result.rotated and result.remove == []


def test_a_single_valid_secret_is_kept_and_nothing_is_removed():
    only = secret("k1", 10, 300)
    assert plan([only]) == secrets.Plan(only, False, None, False, [])


def test_a_secret_expiring_inside_the_window_is_rotated_and_removed_when_exclusive():
    old = secret("k1", 700, 29)
    result = plan([old], rotate_before_days=30)
    assert result.create and result.rotated and result.remove == ["k1"]
    assert "within rotate_before_days (30)" in result.reason


def test_a_secret_expiring_just_outside_the_window_is_kept():
    assert not plan([secret("k1", 700, 31)], rotate_before_days=30).create


def test_an_expired_secret_is_rotated():
    result = plan([secret("k1", 800, -5)])
    assert result.create and "expired" in result.reason


def test_without_exclusive_a_rotation_removes_nothing():
    assert plan([secret("k1", 700, 10)], exclusive=False).remove == []


def test_several_secrets_without_keep_key_id_are_ambiguous_and_rotated_replacing_all():
    # An earlier run stopped between creating k2 and removing k1: which value is in use is unknown.
    result = plan([secret("k1", 100, 600), secret("k2", 1, 729)])
    assert result.create and result.rotated and result.remove == ["k1", "k2"]
    assert "2 secrets carry the description" in result.reason


def test_keep_key_id_names_the_secret_in_use_and_exclusive_removes_the_others():
    in_use, orphan = secret("k1", 100, 600), secret("k2", 1, 729)
    result = plan([in_use, orphan], keep_key_id="k1")
    assert result == secrets.Plan(in_use, False, None, False, ["k2"])


def test_keep_key_id_without_exclusive_keeps_everything():
    result = plan([secret("k1", 100, 600), secret("k2", 1, 729)], keep_key_id="k1", exclusive=False)
    assert not result.create and result.remove == []


def test_keep_key_id_that_is_gone_means_the_caller_holds_no_valid_secret():
    result = plan([secret("k2", 1, 729)], keep_key_id="k1")
    assert result.create and result.rotated and result.remove == ["k2"] and "k1" in result.reason


def test_keep_key_id_expiring_is_rotated_like_any_secret():
    result = plan([secret("k1", 700, 5), secret("k2", 1, 729)], keep_key_id="k1", exclusive=False)
    assert result.create and "k1 expires" in result.reason and result.remove == []


def test_force_rotate_replaces_a_valid_secret():
    result = plan([secret("k1", 1, 729)], force_rotate=True)
    assert result.create and result.rotated and result.remove == ["k1"]


def test_in_check_mode_keeping_a_planned_secret_predicts_the_removal_of_all_others():
    result = plan([secret("k1", 100, 600), secret("k2", 1, 729)], keep_key_id=secrets.PLACEHOLDER)
    assert not result.create and result.remove == ["k1", "k2"]


def test_absent_removes_every_secret_with_the_description():
    assert secrets.plan_absent([secret("k1", 1, 9), secret("k2", 1, 9)]).remove == ["k1", "k2"]


def test_only_secrets_with_the_description_are_considered():
    application = {"passwordCredentials": [
        {"keyId": "k2", "displayName": "modusCloud", "startDateTime": "2026-02-01T00:00:00Z",
         "endDateTime": "2028-02-01T00:00:00Z", "hint": "Xy9", "secretText": None},
        {"keyId": "k1", "displayName": "modusCloud", "startDateTime": "2025-02-01T00:00:00Z",
         "endDateTime": "2027-02-01T00:00:00Z", "hint": "Ab1", "secretText": None},
        {"keyId": "other", "displayName": "backup job", "startDateTime": "2024-02-01T00:00:00Z",
         "endDateTime": "2026-04-01T00:00:00Z", "hint": "Qq1", "secretText": None},
    ]}
    ours = secrets.with_description(secrets.secrets_of(application), "modusCloud")
    assert [s.key_id for s in ours] == ["k1", "k2"]  # oldest first


def test_views_show_dates_days_remaining_and_hint_soonest_expiry_first_never_a_value():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    views = secrets.secret_views({"passwordCredentials": [
        {"keyId": "k2", "displayName": "later", "endDateTime": "2026-03-02T00:00:00Z", "hint": "abc", "secretText": None},
        {"keyId": "k1", "displayName": "old", "endDateTime": "2025-12-30T12:00:00.1234567Z"}]}, now)
    assert [(s["key_id"], s["days_remaining"], s["expired"]) for s in views] == [("k1", -2, True), ("k2", 60, False)]
    assert views[1]["hint"] == "abc" and not any("secretText" in s or "value" in s for s in views)
    assert [s["key_id"] for s in secrets.expiring(views, 30)] == ["k1"]


# Options -------------------------------------------------------------------------------------------

def options(**overrides):
    params = {"description": "modusCloud", "state": "present", "lifetime_days": None, "end_date": None,
              "never_expires": False, "rotate_before_days": 30, "keep_key_id": None, "force_rotate": False,
              "wait_timeout": 180}
    params.update(overrides)
    return params


@pytest.mark.parametrize("overrides, message", [
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
    ({"keep_key_id": "(known after apply)"}, "check mode placeholder"),
])
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
        raise TokenError("app", "tenant", code="invalid_client", message="AADSTS%d: rejected" % codes[0],
                         error_codes=codes)
    return acquire


def test_propagation_errors_are_retried_with_growing_delays_until_a_token_comes():
    clock = FakeTime()
    attempts = secrets.wait_until_usable(token_attempts([7000215], [7000222], [700016], None), 60,
                                         sleep=clock.sleep, clock=clock.monotonic)
    assert attempts == 4 and clock.sleeps == [1.0, 2.0, 4.0]


def test_the_wait_is_bounded_by_the_timeout():
    clock = FakeTime()
    with pytest.raises(SecretError, match="still rejected after .* in 10 seconds"):
        secrets.wait_until_usable(token_attempts(*([[7000215]] * 50)), 10, sleep=clock.sleep, clock=clock.monotonic)
    assert sum(clock.sleeps) <= 10


def test_a_sign_in_host_that_throttles_or_fails_is_waited_for_honouring_its_retry_after():
    failures = [TokenError("app", "tenant", status=503, transient=True),
                TokenError("app", "tenant", status=429, transient=True, retry_after=9),
                TokenError("app", "tenant", message="ConnectionError: refused", transient=True)]

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

class PolicyGraph(object):
    """addPassword that refuses lifetimes over `max_days` as Graph does, and records each try."""

    def __init__(self, max_days):
        self.max_days = max_days
        self.tries = []

    def add_password(self, object_id, body):
        start = secrets.parse_datetime(body["startDateTime"])
        end = secrets.parse_datetime(body["endDateTime"])
        self.tries.append((end - start).days)
        if end - start > timedelta(days=self.max_days):
            raise ApiError("add client secret to application", object_id, 400, secrets.POLICY_ERROR_CODE,
                           "Credential lifetime exceeds the max value allowed as per assigned policy 'p1'.")
        return dict(body, keyId="new", secretText="s3cr3t-value", hint="s3c")


def test_a_refused_lifetime_is_shortened_to_the_longest_usual_limit_accepted():
    graph = PolicyGraph(max_days=200)
    credential, warnings = secrets.add_secret(graph, "obj", "modusCloud", NOW, NOW + 730 * DAY)
    assert graph.tries == [730, 365, 180]
    assert credential["endDateTime"] == "2026-08-28T12:00:00Z"
    assert "lifetime of 730 days was refused" in warnings[0] and "got 180 days" in warnings[0]
    assert "could not be read" in warnings[0]


def test_a_refused_lifetime_fails_clearly_when_shortening_is_off():
    graph = PolicyGraph(max_days=200)
    with pytest.raises(SecretError, match="refuses a secret lifetime of 730 days.*clamp_to_policy"):
        secrets.add_secret(graph, "obj", "modusCloud", NOW, NOW + 730 * DAY, shorten=False)
    assert graph.tries == [730]

"""A new secret's lifetime (_secret_lifetime.py: dates, tenant policy) and the secret plan (_secret_plan.py: what to keep, create or remove, and why)."""

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.moduscloud.azure_sync.plugins.module_utils import _secret_lifetime
from ansible_collections.moduscloud.azure_sync.plugins.module_utils import _secret_plan as secrets
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import SecretError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._secret_lifetime import PasswordPolicy
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._secret_plan import Secret, consumer_reason, plan_keep_predicted

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
NO_LIMIT = PasswordPolicy(True, None, False)
LIMIT_180 = PasswordPolicy(True, 180 * DAY, False)
APP_ID = "4f1c0a7e-3b1d-4c55-9a61-2f7d0c5e8b21"


def secret(key_id, starts_days_ago, ends_in_days, description="modusCloud"):
    return Secret(key_id, description, "Ab1", NOW - starts_days_ago * DAY, NOW + ends_in_days * DAY)


# Dates and durations -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2027-01-31T08:15:30.1234567Z", datetime(2027, 1, 31, 8, 15, 30, 123456, tzinfo=timezone.utc)),
        ("2027-01-31T10:15:30+02:00", datetime(2027, 1, 31, 8, 15, 30, tzinfo=timezone.utc)),
        ("2027-01-31", datetime(2027, 1, 31, tzinfo=timezone.utc)),
    ],
)
def test_graph_dates_and_user_dates_parse_to_utc(text, expected):
    assert _secret_lifetime.parse_datetime(text) == expected


def test_a_date_that_is_not_iso_8601_is_refused_with_an_example():
    with pytest.raises(ValueError, match="2027-01-31"):
        _secret_lifetime.parse_datetime("31/01/2027")


@pytest.mark.parametrize("text, days", [("P180D", 180), ("P1Y", 365), ("P1Y6M", 545), ("PT4320H", 180), ("P2W", 14), ("P89DT24H", 90)])
def test_policy_durations_are_read_as_entra_reads_them(text, days):
    assert _secret_lifetime.parse_duration(text) == timedelta(days=days)


@pytest.mark.parametrize("text", ["P", "180D", "PT", "P1H"])
def test_malformed_durations_are_refused(text):
    with pytest.raises(ValueError):
        _secret_lifetime.parse_duration(text)


def test_days_remaining_counts_whole_days_and_goes_negative_after_expiry():
    assert _secret_lifetime.days_remaining(NOW + timedelta(days=29, hours=23), NOW) == 29
    assert _secret_lifetime.days_remaining(NOW - timedelta(hours=1), NOW) == -1


# Tenant policy ---------------------------------------------------------------------------------


def policy_document(*restrictions, **fields):
    document = {"id": "00000000-0000-0000-0000-000000000000", "isEnabled": True, "applicationRestrictions": {"passwordCredentials": list(restrictions)}}
    document.update(fields)
    return document


def test_the_password_lifetime_restriction_sets_the_maximum():
    document = policy_document({"restrictionType": "passwordLifetime", "maxLifetime": "P180D", "restrictForAppsCreatedAfterDateTime": "2015-01-01T00:00:00Z"})
    assert _secret_lifetime.password_policy(document, "2025-06-01T00:00:00Z") == LIMIT_180


def test_the_strictest_of_several_lifetime_restrictions_wins():
    document = policy_document({"restrictionType": "passwordLifetime", "maxLifetime": "P1Y"}, {"restrictionType": "passwordLifetime", "maxLifetime": "P90D"})
    assert _secret_lifetime.password_policy(document).max_lifetime == 90 * DAY


@pytest.mark.parametrize(
    "document, created",
    [
        (policy_document({"restrictionType": "passwordLifetime", "maxLifetime": "P90D"}, isEnabled=False), None),
        (policy_document({"restrictionType": "passwordLifetime", "maxLifetime": "P90D", "state": "disabled"}), None),
        # The restriction only binds apps created after its date.
        (
            policy_document({"restrictionType": "passwordLifetime", "maxLifetime": "P90D", "restrictForAppsCreatedAfterDateTime": "2025-01-01T00:00:00Z"}),
            "2024-12-31T00:00:00Z",
        ),
    ],
)
def test_restrictions_that_do_not_bind_the_app_are_ignored(document, created):
    assert _secret_lifetime.password_policy(document, created) == NO_LIMIT


def test_a_password_addition_restriction_blocks_new_secrets():
    document = policy_document({"restrictionType": "passwordAddition"})
    assert _secret_lifetime.password_policy(document).additions_blocked is True


# Lifetime of a new secret ------------------------------------------------------------------------


def test_a_lifetime_within_the_policy_is_kept_without_warning():
    end, warnings = _secret_lifetime.fit_to_policy(NOW, NOW + 90 * DAY, LIMIT_180)
    assert end == NOW + 90 * DAY and warnings == []


def test_a_lifetime_over_the_policy_is_clamped_to_its_maximum_with_a_warning():
    end, warnings = _secret_lifetime.fit_to_policy(NOW, NOW + 730 * DAY, LIMIT_180)
    assert end == NOW + 180 * DAY
    assert len(warnings) == 1 and "730 days" in warnings[0] and "180 days" in warnings[0]


def test_without_clamping_a_lifetime_over_the_policy_fails_naming_the_maximum():
    with pytest.raises(SecretError, match="at most 180 days.*clamp_to_policy"):
        _secret_lifetime.fit_to_policy(NOW, NOW + 730 * DAY, LIMIT_180, clamp=False)


def test_never_expires_takes_the_policy_maximum_even_without_clamping():
    end, warnings = _secret_lifetime.fit_to_policy(NOW, _secret_lifetime.requested_end(NOW, never_expires=True), LIMIT_180, clamp=False, never_expires=True)
    assert end == NOW + 180 * DAY
    assert "never_expires" in warnings[0] and "2026-08-28" in warnings[0]


def test_never_expires_without_a_policy_asks_for_99_years():
    wanted = _secret_lifetime.requested_end(NOW, never_expires=True)
    end, warnings = _secret_lifetime.fit_to_policy(NOW, wanted, NO_LIMIT, never_expires=True)
    assert end == wanted and end.year == 2125 and warnings == []


@pytest.mark.parametrize(
    "options, end",
    [
        ({}, NOW + 730 * DAY),
        ({"lifetime_days": 90}, NOW + 90 * DAY),
        ({"end_date": NOW + 10 * DAY}, NOW + 10 * DAY),
    ],
)
def test_the_requested_end_follows_the_options(options, end):
    assert _secret_lifetime.requested_end(NOW, **options) == end


def test_a_lifetime_inside_the_rotation_window_is_refused():
    with pytest.raises(SecretError, match="rotate_before_days"):
        _secret_lifetime.check_rotation_window(30 * DAY, 30)
    _secret_lifetime.check_rotation_window(31 * DAY, 30)


def test_fallback_lifetimes_are_the_usual_limits_below_the_refused_one():
    assert _secret_lifetime.fallback_lifetimes(200 * DAY) == [timedelta(days=days) for days in (180, 90, 30, 7, 1)]


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
    result = plan_keep_predicted([secret("k1", 100, 600), secret("k2", 1, 729)])
    assert not result.create and result.remove == ["k1", "k2"]


def test_absent_removes_every_secret_with_the_description():
    assert secrets.plan_absent([secret("k1", 1, 9), secret("k2", 1, 9)]).remove == ["k1", "k2"]


def test_only_secrets_with_the_description_are_considered():
    application = {
        "passwordCredentials": [
            {
                "keyId": "k2",
                "displayName": "modusCloud",
                "startDateTime": "2026-02-01T00:00:00Z",
                "endDateTime": "2028-02-01T00:00:00Z",
                "hint": "Xy9",
                "secretText": None,
            },
            {
                "keyId": "k1",
                "displayName": "modusCloud",
                "startDateTime": "2025-02-01T00:00:00Z",
                "endDateTime": "2027-02-01T00:00:00Z",
                "hint": "Ab1",
                "secretText": None,
            },
            {
                "keyId": "other",
                "displayName": "backup job",
                "startDateTime": "2024-02-01T00:00:00Z",
                "endDateTime": "2026-04-01T00:00:00Z",
                "hint": "Qq1",
                "secretText": None,
            },
        ]
    }
    ours = secrets.with_description(secrets.secrets_of(application), "modusCloud")
    assert [s.key_id for s in ours] == ["k1", "k2"]  # oldest first


def test_views_show_dates_days_remaining_and_hint_soonest_expiry_first_never_a_value():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    views = secrets.secret_views(
        {
            "passwordCredentials": [
                {"keyId": "k2", "displayName": "later", "endDateTime": "2026-03-02T00:00:00Z", "hint": "abc", "secretText": None},
                {"keyId": "k1", "displayName": "old", "endDateTime": "2025-12-30T12:00:00.1234567Z"},
            ]
        },
        now,
    )
    assert [(s["key_id"], s["days_remaining"], s["expired"]) for s in views] == [("k1", -2, True), ("k2", 60, False)]
    assert views[1]["hint"] == "abc" and not any("secretText" in s or "value" in s for s in views)
    assert [s["key_id"] for s in secrets.expiring(views, 30)] == ["k1"]


# What the consumer (modusCloud) holds ----------------------------------------------------------------------


def holds(**overrides):
    consumer = {
        "configured": True,
        "app_id": APP_ID.upper(),
        "secret_expiry": "2027-01-31",
        "secret_days_remaining": 300,
        "settings_changes": [],
        "new_key_with_settings_change": True,
    }
    consumer.update(overrides)
    return consumer


@pytest.mark.parametrize(
    "consumer, reason, uses_app",
    [
        (None, None, False),
        (holds(), None, True),  # the application id is compared without case
        (holds(configured=False, app_id=None), "modusCloud has no Azure AD settings yet", False),
        (holds(app_id="0b5e7a52-6f21-4c1e-8a44-1d9f3e2c7b60"), "modusCloud uses another application (0b5e7a52-6f21-4c1e-8a44-1d9f3e2c7b60)", False),
        (holds(app_id=None), "modusCloud uses another application (none)", False),
        (holds(secret_days_remaining=30), "the key modusCloud holds expires on 2027-01-31", True),
        (holds(secret_days_remaining=None), None, True),  # unknown counts as not expiring
        (
            holds(settings_changes=["sync_frequency_hours", "add_users"]),
            "the import settings change (sync_frequency_hours, add_users), and whether modusCloud keeps its key",
            True,
        ),
        (holds(settings_changes=["add_users"], new_key_with_settings_change=False), None, True),
    ],
)
def test_the_consumer_needs_a_new_key_whenever_it_holds_no_usable_key_of_this_application(consumer, reason, uses_app):
    got, uses = consumer_reason(consumer, APP_ID, 30)
    assert uses is uses_app
    assert got == reason if reason is None else got.startswith(reason)


def test_the_consumers_reason_forces_a_new_secret_and_is_given_as_its_reason():
    result = plan([secret("k1", 10, 300)], force_reason="modusCloud has no Azure AD settings yet")
    assert result.create and result.rotated and result.reason == "modusCloud has no Azure AD settings yet"
    assert plan([secret("k1", 10, 300)], force_rotate=True, force_reason="x").reason == "force_rotate is set"

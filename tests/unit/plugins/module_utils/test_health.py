"""Fleet health rows, verdicts, order and page (plugins/module_utils/_health.py and its filter plugin)."""

from datetime import datetime, timezone

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.moduscloud.azure_sync.plugins.filter import fleet_health as filters
from ansible_collections.moduscloud.azure_sync.plugins.module_utils import _health as health

APP_ID = "4f1c0a7e-3b1d-4c55-9a61-2f7d0c5e8b21"
MARK = "modusCloud user sync"


def secret(days, description=MARK):
    return {"key_id": "k%d" % days, "description": description, "end_date": "2027-01-01T00:00:00Z", "days_remaining": days, "hint": "abc"}


def reads(**changes):
    """What the health tasks read for a converged, healthy tenant; `changes` replace parts."""
    base = {
        "org": "contoso.example",
        "secret_description": MARK,
        "applications": [{"app_id": APP_ID, "consent": {"complete": True}, "secrets": [secret(700)]}],
        "sync_info": {
            "configured": True,
            "settings": {"app_id": APP_ID, "sync_frequency_hours": 1},
            "secret_expiry": "2028-07-01",
            "secret_days_remaining": 700,
            "last_successful_sync": "2026-07-01T10:00:00Z",
            "last_sync_age_hours": 0.5,
            "domains": [{"name": "contoso.example"}, {"name": "contoso.onmicrosoft.com"}],
        },
        "tenant_domains": ["contoso.example", "Contoso.onmicrosoft.com"],
        "settings_diff": {"before": {"azure_ad_import": {"sync_frequency_hours": 1}}, "after": {"azure_ad_import": {"sync_frequency_hours": 1}}},
        "report_counts": {"add": 0, "change": 0, "remove": 0, "unchanged": 12},
    }
    base.update(changes)
    return base


def sync_info(**changes):
    info = dict(reads()["sync_info"])
    info.update(changes)
    return info


def texts(row):
    return [problem["text"] for problem in row["problems"]]


def test_a_converged_tenant_is_ok_without_problems():
    row = health.health_row("contoso", reads())
    assert row["status"] == "ok" and row["problems"] == []
    assert row["app_id"] == APP_ID and row["consent_complete"] is True and row["secret_days_remaining"] == 700


@pytest.mark.parametrize(
    "days, status, text",
    [
        (31, "ok", None),
        (30, "warning", "the application's newest client secret expires in 30 days"),
        (0, "warning", "the application's newest client secret expires in 0 days"),
        (-2, "critical", "the application's newest client secret expired 2 days ago"),
    ],
)
def test_the_secret_threshold_decides_between_ok_expiring_and_expired(days, status, text):
    row = health.health_row(
        "t", reads(applications=[{"app_id": APP_ID, "consent": {"complete": True}, "secrets": [secret(days), secret(900, "another consumer")]}])
    )
    assert row["status"] == status
    assert texts(row) == ([text] if text else [])


def test_the_newest_marked_secret_counts_so_a_rotation_in_progress_is_not_flagged():
    row = health.health_row("t", reads(applications=[{"app_id": APP_ID, "consent": {"complete": True}, "secrets": [secret(3), secret(729)]}]))
    assert row["status"] == "ok" and row["secret_days_remaining"] == 729


def test_the_key_modus_cloud_holds_is_checked_against_the_same_threshold():
    row = health.health_row("t", reads(sync_info=sync_info(secret_days_remaining=12)), {"secret_warn_days": 14})
    assert texts(row) == ["the key modusCloud holds expires in 12 days"]


@pytest.mark.parametrize(
    "last, age, status, text",
    [
        ("2026-07-01T10:00:00Z", 24.0, "ok", None),
        ("2026-07-01T10:00:00Z", 30.25, "warning", "stale sync: last success 30.2 hours ago"),
        ("2026-07-01T10:00:00Z", 100.0, "critical", "failing sync: last success 100 hours ago"),
        (None, None, "critical", "failing sync: it never succeeded"),
    ],
)
def test_sync_age_against_the_stale_and_failing_thresholds(last, age, status, text):
    row = health.health_row("t", reads(sync_info=sync_info(last_successful_sync=last, last_sync_age_hours=age)))
    assert row["status"] == status and texts(row) == ([text] if text else [])


@pytest.mark.parametrize(
    "handed_over, status, text",
    [
        ("2026-07-01T09:30:00Z", "warning", "no sync yet: the key was handed over 0.5 hours ago and the service syncs every 1 hours"),
        ("2026-07-01T08:00:00Z", "critical", "failing sync: it never succeeded"),  # 2 hours: the first sync was due
        (None, "critical", "failing sync: it never succeeded"),
    ],
)
def test_a_tenant_that_never_synced_is_failing_once_its_first_scheduled_sync_was_due(handed_over, status, text):
    # Right after onboarding the first scheduled sync (every sync_frequency_hours) is not due yet; the newest key
    # dates the hand-over.
    key = dict(secret(700), start_date=handed_over)
    applications = [{"app_id": APP_ID, "consent": {"complete": True}, "secrets": [key]}]
    never = sync_info(last_successful_sync=None, last_sync_age_hours=None)
    row = health.health_row("t", reads(applications=applications, sync_info=never), now=datetime(2026, 7, 1, 10, 0, tzinfo=timezone.utc))
    assert row["status"] == status and texts(row) == [text]


def test_a_sync_the_controller_sees_in_the_future_counts_as_fresh():
    row = health.health_row("t", reads(sync_info=sync_info(last_sync_age_hours=-0.9)))
    assert row["last_sync_age_hours"] == 0 and row["status"] == "ok"


def test_missing_domains_drift_and_a_missing_application_are_named():
    row = health.health_row(
        "t",
        reads(
            applications=[],
            tenant_domains=["contoso.example", "contoso.onmicrosoft.com", "Fabrikam.example"],
            settings_diff={
                "before": {"azure_ad_import": {"sync_frequency_hours": 24, "add_users": True}, "sync_exemptions": {"emails": ["a@contoso.example"]}},
                "after": {"azure_ad_import": {"sync_frequency_hours": 1, "add_users": True, "key": "(sent)"}, "sync_exemptions": {"emails": []}},
            },
        ),
    )
    assert row["missing_domains"] == ["fabrikam.example"]
    assert row["drift"] == [
        {"setting": "sync_frequency_hours", "saved": 24, "desired": 1},
        {"setting": "exemptions", "saved": ["a@contoso.example"], "desired": []},
    ]
    assert [p["category"] for p in row["problems"]] == ["application", "domains", "drift"]
    assert row["status"] == "critical"


def test_a_tenant_whose_reads_failed_says_why_and_keeps_what_was_read():
    row = health.health_row(
        "t",
        {"org": "contoso.example", "error": "reading modusCloud's sync state: HTTP 401", "applications": reads()["applications"], "secret_description": MARK},
    )
    assert row["status"] == "error" and row["error"].endswith("HTTP 401")
    assert texts(row) == ["reads failed: reading modusCloud's sync state: HTTP 401"]
    assert row["app_id"] == APP_ID and row["moduscloud_configured"] is None


def test_an_unconfigured_organization_is_critical_and_not_compared():
    row = health.health_row("t", reads(sync_info={"configured": False, "domains": []}, settings_diff=None, report_counts=None, tenant_domains=None))
    assert texts(row) == ["modusCloud has no Azure AD import settings"]


def test_rows_are_ordered_worst_first_by_severity_then_category_then_count():
    rows = [
        health.health_row("healthy", reads()),
        health.health_row(
            "drifted", reads(settings_diff={"before": {"azure_ad_import": {"add_users": False}}, "after": {"azure_ad_import": {"add_users": True}}})
        ),
        health.health_row("missing", reads(tenant_domains=["x.example"])),
        health.health_row("stale", reads(sync_info=sync_info(last_sync_age_hours=30))),
        health.health_row("failing", reads(sync_info=sync_info(last_sync_age_hours=300))),
        health.health_row("expiring", reads(applications=[{"app_id": APP_ID, "consent": {"complete": True}, "secrets": [secret(5)]}])),
        health.health_row("expired", reads(sync_info=sync_info(secret_days_remaining=-1))),
        health.health_row("unreadable", {"error": "signing in to Microsoft Graph: AADSTS7000215"}),
    ]
    ordered = [row["host"] for row in filters.fleet_health_sort(rows)]
    # Every error and critical row before any warning: an expiring key waits behind a failing sync.
    assert ordered == ["unreadable", "expired", "failing", "missing", "expiring", "stale", "drifted", "healthy"]
    # Rows merged from several job slices (a dict keyed by host) sort the same way.
    assert [row["host"] for row in filters.fleet_health_sort(dict((r["host"], r) for r in rows))] == ordered


def test_every_host_gets_a_row_even_one_that_failed_before_its_reads():
    hostvars = {"a": {"azure_user_sync_health_row": health.health_row("a", reads())}, "b": {}}
    rows = filters.fleet_health_rows(["a", "b"], hostvars)
    assert [row["host"] for row in rows] == ["b", "a"]
    assert rows[0]["status"] == "error" and "failed before its reads" in rows[0]["error"]


def test_the_page_has_one_escaped_table_row_per_tenant_in_order():
    rows = filters.fleet_health_sort(
        [
            health.health_row("ok-tenant", reads()),
            health.health_row("bad|tenant", {"error": "line one\nline | two"}),
        ]
    )
    page = filters.fleet_health_markdown(rows, "2026-07-01 10:00 UTC")
    table = [line for line in page.splitlines() if line.startswith("| ")]
    assert len(table) == 3  # header and two tenants
    assert table[1].startswith("| bad\\|tenant | error | reads failed: line one line \\| two |")
    assert table[2].startswith("| ok-tenant | ok | - | 700 | 2028-07-01 (700 days) |")
    assert "2 tenants: 1 error, 0 critical, 0 warning, 1 ok." in page


@pytest.mark.parametrize(
    "thresholds, message",
    [
        ({"secret_warn_days": -1}, "secret_warn_days must be a whole number from 0"),
        ({"sync_stale_hours": "soon"}, "sync_stale_hours must be a whole number from 0, got 'soon'"),
        ({"warn": 3}, "unknown fleet health threshold warn; known: secret_warn_days, sync_failing_hours"),
    ],
)
def test_bad_thresholds_are_named_with_what_is_allowed(thresholds, message):
    with pytest.raises(AnsibleFilterError, match=message):
        filters.fleet_health_row(reads(), "t", thresholds)


def test_a_rows_problems_are_listed_by_severity_first():
    row = health.health_row("t", reads(tenant_domains=["x.example"], applications=[{"app_id": APP_ID, "consent": {"complete": True}, "secrets": [secret(5)]}]))
    assert [(p["level"], p["category"]) for p in row["problems"]] == [("critical", "domains"), ("warning", "key")]
    assert row["status"] == "critical"


SIGN_IN_FAILURE = (
    "signing in to Microsoft Graph: Task failed: Finalization of task args for 'ansible.builtin.set_fact' failed: "
    "Error while resolving value for 'azure_user_sync_graph_token': The lookup plugin "
    "'moduscloud.azure_sync.graph_token' failed: acquire a Microsoft Graph token for client_id "
    "11111111-2222-3333-4444-555555555555 in tenant contoso.example failed: HTTP 401 invalid_client: "
    "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\r\n"
    "Correlation ID: 9a8b7c6d-5e4f-3a2b-1c0d-ffeeddccbbaa\r\nTimestamp: 2026-11-28 09:00:01Z "
    "(request-id 9a8b7c6d-5e4f-3a2b-1c0d-ffeeddccbbaa)"
)


@pytest.mark.parametrize(
    "error, reason",
    [
        (
            SIGN_IN_FAILURE,
            "signing in to Microsoft Graph: acquire a Microsoft Graph token for client_id 11111111-2222-3333-4444-555555555555"
            " in tenant contoso.example failed: HTTP 401 invalid_client: AADSTS7000215: Invalid client secret provided.",
        ),
        (
            "reading modusCloud's sync state: read import settings of org contoso.example failed: HTTP 401: "
            "modusCloud rejected the credentials\nTraceback (most recent call last):\n  File \"x.py\", line 1",
            "reading modusCloud's sync state: read import settings of org contoso.example failed: HTTP 401: modusCloud rejected the credentials",
        ),
        ("x" * 50 + " " + "word " * 100, None),
    ],
)
def test_a_failed_reads_reason_is_short_and_without_ansible_or_trace_text(error, reason):
    row = health.health_row("t", {"error": error})
    if reason is not None:
        assert row["error"] == reason
    assert len(row["error"]) <= health.REASON_LIMIT
    assert texts(row) == ["reads failed: " + row["error"]]
    for noise in ("Task failed", "set_fact", "Trace ID", "Correlation ID", "Timestamp", "request-id", "Traceback", "\n"):
        assert noise not in row["error"]

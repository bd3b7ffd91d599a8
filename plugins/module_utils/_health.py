# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fleet health: one row per tenant from what the read-only tasks found, the verdict, the order
(worst first) and the Markdown page. Pure functions, no I/O: the filter plugin fleet_health and
playbooks/fleet_health.yml call them.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._secret_lifetime import parse_datetime, utc_now

# Problem categories: within one severity (error, critical, warning, ok: LEVELS), rows and problems follow
# this order, then the count of problems.
READ_ERROR = "read_error"
KEY = "key"
APPLICATION = "application"
SYNC = "sync"
DOMAINS = "domains"
DRIFT = "drift"
CATEGORIES = (READ_ERROR, KEY, APPLICATION, SYNC, DOMAINS, DRIFT)

CRITICAL = "critical"
WARNING = "warning"
OK = "ok"
ERROR = "error"
LEVELS = (ERROR, CRITICAL, WARNING, OK)

DEFAULT_THRESHOLDS = {
    # A key (the application's secret or the one modusCloud holds) expiring within this many days is a warning.
    "secret_warn_days": 30,
    # A last successful sync older than this many hours is stale (warning), older than failing_hours failing.
    "sync_stale_hours": 24,
    "sync_failing_hours": 72,
}

# The longest reason a row gives for failed reads (the step and the API's answer fit well within it).
REASON_LIMIT = 300
# What Ansible wraps around a failure, and what Entra and Graph add to theirs for support cases: none of it
# helps a reader of the page, so the row's reason leaves it out.
_REASON_NOISE = (
    re.compile(r"Task failed: (?:Finalization of task args for '[^']*' failed: |Action failed: |Module failed: )?"),
    re.compile(r"Error while resolving value for '[^']*': "),
    re.compile(r"The lookup plugin '[^']*' failed: "),
    re.compile(
        r"An unhandled exception occurred while running the lookup plugin '[^']*'\. "
        r"Error was a <class '[^']*'>, original message: "
    ),
    re.compile(r"\s*\b(?:Trace ID|Correlation ID): [0-9A-Fa-f-]+"),
    re.compile(r"\s*\bTimestamp: \d{4}-\d\d-\d\d[ T][\d:.]+Z?"),
    re.compile(r"\s*\((?:request-id|client-request-id) [^)]*\)"),
)

SETTINGS_LABEL = "azure_ad_import"
EXEMPTIONS_LABEL = "sync_exemptions"


def short_reason(text, limit=REASON_LIMIT):
    """A failed read's reason as a row shows it: the step and the API's answer (HTTP status, error code,
    message) on one line, without Ansible's wrapping, tracebacks, trace ids or timestamps, at most `limit`
    characters."""
    if not text:
        return None
    text = str(text)
    if "<<< caused by >>>" in text:  # Ansible's chain of causes: the last one is what went wrong
        text = text.rsplit("<<< caused by >>>", 1)[1]
    for marker in ("Traceback (most recent call last)", "\nOrigin: "):
        if marker in text:
            text = text.split(marker, 1)[0]
    for noise in _REASON_NOISE:
        text = noise.sub("", text)
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "\u2026"
    return text


def thresholds_from(given):
    """The thresholds, defaults filled in; a value that is not a whole number >= 0 raises ValueError naming it."""
    values = dict(DEFAULT_THRESHOLDS)
    for name, value in (given or {}).items():
        if name not in DEFAULT_THRESHOLDS:
            raise ValueError("unknown fleet health threshold %s; known: %s" % (name, ", ".join(sorted(DEFAULT_THRESHOLDS))))
        if value is None:
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = -1
        if number < 0 or isinstance(value, bool):
            raise ValueError("fleet health threshold %s must be a whole number from 0, got %r" % (name, value))
        values[name] = number
    return values


def drift_from_diff(diff):
    """The settings and exemptions whose saved value differs from the inventory's, from a check-mode diff."""
    diff = diff or {}
    before, after = diff.get("before") or {}, diff.get("after") or {}
    drift = []
    saved, desired = before.get(SETTINGS_LABEL) or {}, after.get(SETTINGS_LABEL) or {}
    for name in sorted(set(saved) | set(desired)):
        if name == "key" or name == "state":
            continue
        if saved.get(name) != desired.get(name):
            drift.append({"setting": name, "saved": saved.get(name), "desired": desired.get(name)})
    saved, desired = before.get(EXEMPTIONS_LABEL), after.get(EXEMPTIONS_LABEL)
    if saved is not None and desired is not None and saved.get("emails") != desired.get("emails"):
        drift.append({"setting": "exemptions", "saved": saved.get("emails"), "desired": desired.get("emails")})
    return drift


def _problem(category, level, text):
    return {"category": category, "level": level, "text": text}


def health_row(host, reads, thresholds=None, now=None):
    """One tenant's row: what was read, its problems and its status.

    `reads` holds what the tasks found (each may be missing or None when not read): org, error (why
    the reads stopped), applications (azure_app_registration_info's list), secret_description, sync_info
    (moduscloud_sync_info's result), tenant_domains (the Entra tenant's verified domains),
    settings_diff (moduscloud_import_settings' check-mode diff), report_counts (moduscloud_user_sync's
    report counts). `now` (the time of the reads, UTC) dates the newest key's hand-over.
    """
    limits = thresholds_from(thresholds)
    reads = reads or {}
    row = {
        "host": host,
        "org": reads.get("org"),
        "error": short_reason(reads.get("error")),
        "problems": [],
        "app_id": None,
        "consent_complete": None,
        "secrets": [],
        "secret_days_remaining": None,
        "moduscloud_configured": None,
        "moduscloud_app_id": None,
        "moduscloud_secret_expiry": None,
        "moduscloud_secret_days_remaining": None,
        "last_successful_sync": None,
        "last_sync_age_hours": None,
        "missing_domains": [],
        "drift": [],
        "report_counts": reads.get("report_counts") or None,
    }
    problems = row["problems"]
    if row["error"]:
        problems.append(_problem(READ_ERROR, ERROR, "reads failed: %s" % row["error"]))

    secrets = _application(row, reads, limits, problems)
    _moduscloud(row, reads, limits, problems, _hours_since_newest(secrets, now or utc_now()))
    _domains(row, reads, problems)
    if reads.get("settings_diff") is not None:
        row["drift"] = drift_from_diff(reads["settings_diff"])
        if row["drift"]:
            problems.append(_problem(DRIFT, WARNING, "settings differ from the inventory: %s" % ", ".join(item["setting"] for item in row["drift"])))

    problems.sort(key=_problem_order)
    row["status"] = min((problem["level"] for problem in problems), key=LEVELS.index) if problems else OK
    return row


def _application(row, reads, limits, problems):
    applications = reads.get("applications")
    if applications is None:
        return  # not read (the reads stopped before)
    application = applications[0] if applications else None
    if not application:
        problems.append(_problem(APPLICATION, CRITICAL, "no application registration for the sync"))
        return
    row["app_id"] = application.get("app_id")
    consent = application.get("consent") or {}
    row["consent_complete"] = consent.get("complete")
    if consent and not consent.get("complete"):
        problems.append(_problem(APPLICATION, CRITICAL, "admin consent incomplete"))
    description = reads.get("secret_description")
    secrets = [secret for secret in application.get("secrets") or [] if description is None or secret.get("description") == description]
    row["secrets"] = [dict((key, secret.get(key)) for key in ("key_id", "end_date", "days_remaining")) for secret in secrets]
    days = [secret["days_remaining"] for secret in secrets if secret.get("days_remaining") is not None]
    row["secret_days_remaining"] = max(days) if days else None
    if not secrets:
        problems.append(_problem(KEY, CRITICAL, "the application has no client secret for modusCloud"))
    else:
        _expiry(row["secret_days_remaining"], "the application's newest client secret", limits, problems)
    return secrets


def _hours_since_newest(secrets, now):
    """Hours since the newest of the secrets was made (its start date), or None when none has one."""
    starts = [secret.get("start_date") for secret in secrets or () if secret.get("start_date")]
    if not starts:
        return None
    newest = max(parse_datetime(start) for start in starts)
    return max((now - newest).total_seconds() / 3600.0, 0.0)


def _moduscloud(row, reads, limits, problems, key_age_hours=None):
    info = reads.get("sync_info")
    if not info:
        return
    row["moduscloud_configured"] = bool(info.get("configured"))
    if not info.get("configured"):
        problems.append(_problem(SYNC, CRITICAL, "modusCloud has no Azure AD import settings"))
        return
    settings = info.get("settings") or {}
    row["moduscloud_app_id"] = settings.get("app_id")
    row["moduscloud_secret_expiry"] = info.get("secret_expiry")
    row["moduscloud_secret_days_remaining"] = info.get("secret_days_remaining")
    row["last_successful_sync"] = info.get("last_successful_sync")
    age = info.get("last_sync_age_hours")
    row["last_sync_age_hours"] = max(age, 0) if age is not None else None
    _expiry(row["moduscloud_secret_days_remaining"], "the key modusCloud holds", limits, problems)
    if row["app_id"] and row["moduscloud_app_id"] and row["app_id"].lower() != row["moduscloud_app_id"].lower():
        problems.append(_problem(APPLICATION, CRITICAL, "modusCloud syncs with another application (%s)" % row["moduscloud_app_id"]))
    if settings.get("sync_frequency_hours") == 0:
        problems.append(_problem(SYNC, WARNING, "the scheduled sync is off (sync frequency 0)"))
    elif row["last_successful_sync"] is None and key_age_hours is not None and key_age_hours <= (settings.get("sync_frequency_hours") or 0):
        # Just onboarded, the first scheduled sync not due yet: modusCloud does not say when the settings were saved,
        # but the newest key was handed over with them.
        problems.append(
            _problem(
                SYNC,
                WARNING,
                "no sync yet: the key was handed over %s hours ago and the service syncs every %s hours"
                % (_number(key_age_hours), _number(settings["sync_frequency_hours"])),
            )
        )
    elif row["last_successful_sync"] is None:
        problems.append(_problem(SYNC, CRITICAL, "failing sync: it never succeeded"))
    elif row["last_sync_age_hours"] is not None and row["last_sync_age_hours"] > limits["sync_failing_hours"]:
        problems.append(_problem(SYNC, CRITICAL, "failing sync: last success %s hours ago" % _number(row["last_sync_age_hours"])))
    elif row["last_sync_age_hours"] is not None and row["last_sync_age_hours"] > limits["sync_stale_hours"]:
        problems.append(_problem(SYNC, WARNING, "stale sync: last success %s hours ago" % _number(row["last_sync_age_hours"])))


def _domains(row, reads, problems):
    info, tenant_domains = reads.get("sync_info"), reads.get("tenant_domains")
    if not info or tenant_domains is None:
        return
    have = set(str(domain.get("name") or "").lower() for domain in info.get("domains") or [])
    row["missing_domains"] = sorted(set(str(name).lower() for name in tenant_domains) - have)
    if row["missing_domains"]:
        problems.append(_problem(DOMAINS, CRITICAL, "domains missing on the organization (the sync fails): %s" % ", ".join(row["missing_domains"])))


def _expiry(days, what, limits, problems):
    if days is None:
        return
    if days < 0:
        problems.append(_problem(KEY, CRITICAL, "%s expired %d days ago" % (what, -days)))
    elif days <= limits["secret_warn_days"]:
        problems.append(_problem(KEY, WARNING, "%s expires in %d days" % (what, days)))


def _problem_order(problem):
    return (LEVELS.index(problem["level"]), CATEGORIES.index(problem["category"]))


def _number(value):
    return ("%.1f" % value).rstrip("0").rstrip(".")


def sort_key(row):
    """Worst first: by severity (error, critical, warning, ok), then the category of the worst problem
    (key, application, sync, domains, drift), then more problems first, then the host name."""
    problems = row.get("problems") or []
    if not problems:
        return (LEVELS.index(OK), len(CATEGORIES), 0, str(row.get("host")))
    level, category = min(_problem_order(problem) for problem in problems)
    return (level, category, -len(problems), str(row.get("host")))


def sorted_rows(rows):
    return sorted(rows, key=sort_key)


def rows_for_hosts(hosts, row_of):
    """One row per host, worst first; a host without a row gets one saying so (`row_of(host)` may be None)."""
    rows = []
    for host in hosts:
        row = row_of(host)
        if not row:
            row = health_row(host, {"error": "no health data: the host failed before its reads"})
        rows.append(row)
    return sorted_rows(rows)


def markdown(rows, title="modusCloud Azure AD sync: fleet health", generated=None, thresholds=None):
    """The page: a summary line, then one table row per tenant in the given order."""
    limits = thresholds_from(thresholds)
    counts = dict((level, 0) for level in LEVELS)
    for row in rows:
        counts[row.get("status") or OK] += 1
    lines = ["# %s" % title, ""]
    if generated:
        lines += ["Generated %s." % generated, ""]
    lines += [
        "%d tenants: %s. Thresholds: keys expiring within %d days, syncs stale after %d hours and failing "
        "after %d hours."
        % (
            len(rows),
            ", ".join("%d %s" % (counts[level], level) for level in LEVELS),
            limits["secret_warn_days"],
            limits["sync_stale_hours"],
            limits["sync_failing_hours"],
        ),
        "",
    ]
    header = [
        "Tenant",
        "Status",
        "Problems",
        "App secret (days left)",
        "modusCloud key expires",
        "Last successful sync",
        "Missing domains",
        "Drift",
        "Sync report (add/change/remove)",
    ]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for row in rows:
        counts_text = "-"
        if row.get("report_counts"):
            report = row["report_counts"]
            counts_text = "%s/%s/%s" % (report.get("add", "?"), report.get("change", "?"), report.get("remove", "?"))
        cells = [
            row.get("host"),
            row.get("status"),
            "; ".join(problem["text"] for problem in row.get("problems") or []) or "-",
            _or_dash(row.get("secret_days_remaining")),
            "%s (%s days)" % (row["moduscloud_secret_expiry"], row.get("moduscloud_secret_days_remaining")) if row.get("moduscloud_secret_expiry") else "-",
            "%s (%s h ago)" % (row["last_successful_sync"], _number(row["last_sync_age_hours"]))
            if row.get("last_successful_sync") and row.get("last_sync_age_hours") is not None
            else (row.get("last_successful_sync") or "-"),
            ", ".join(row.get("missing_domains") or []) or "-",
            ", ".join("%s: %s -> %s" % (item["setting"], item["saved"], item["desired"]) for item in row.get("drift") or []) or "-",
            counts_text,
        ]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def _or_dash(value):
    return "-" if value is None else value


def _cell(value):
    text = "-" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")

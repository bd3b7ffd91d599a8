"""azure_app_secret through main(), with Graph (FakeGraph) and the Entra sign-in host (FakeSignIn) faked at the requests seam.

Most tests seed the application's passwordCredentials and check what the module returns and what
Graph ends up holding. The tests that run on `run` script the exact conversation instead (an answer
left over or missing fails them): each says why the order of its requests is its point.
"""

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from ansible_collections.moduscloud.azure_sync.plugins.module_utils import _graph
from ansible_collections.moduscloud.azure_sync.plugins.module_utils import _graph_wire, _secret_lease, _secret_lifetime
from ansible_collections.moduscloud.azure_sync.plugins.module_utils import _secrets as secrets
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._state import PLACEHOLDER, SECRET_VALUE_PLACEHOLDER
from ansible_collections.moduscloud.azure_sync.plugins.modules import azure_app_secret as module

from ..fake_time import FakeTime
from .fake_graph import FakeGraph
from .fake_sign_in import FakeSignIn
from .module_runner import ScriptedRun, route_requests, run_main, run_scripted

GRAPH = "https://graph.test"
LOGIN = "https://login.test"
TENANT = "11111111-2222-3333-4444-555555555555"
APP_ID = "4f1c0a7e-3b1d-4c55-9a61-2f7d0c5e8b21"
OBJECT_ID = "9d2e7c41-0a6b-4f3e-8d15-7b9c2a4e6f80"
OLD_KEY = "0a1b2c3d-0000-4000-8000-000000000001"
ORPHAN_KEY = "0a1b2c3d-0000-4000-8000-000000000002"
OTHER_KEY = "0a1b2c3d-0000-4000-8000-000000000003"
NEW_KEY = "0a1b2c3d-0000-4000-8000-000000000004"
# Distinctive values, so a test can prove they never reach the output except where they belong.
NEW_VALUE = "Zq8~NEW.secret-value_0f-the-run~4471"
ADMIN_TOKEN = "admin-graph-token-not-for-output"
CONNECTION = {"tenant_id": TENANT, "access_token": ADMIN_TOKEN, "authority_host": LOGIN, "graph_url": GRAPH}
BASE = {"app_id": APP_ID, "description": "modusCloud"}

OIDC = (
    200,
    {
        "authorization_endpoint": LOGIN + "/%s/oauth2/v2.0/authorize" % TENANT,
        "token_endpoint": LOGIN + "/%s/oauth2/v2.0/token" % TENANT,
        "issuer": LOGIN + "/%s/v2.0" % TENANT,
    },
)
TOKEN = (200, {"token_type": "Bearer", "expires_in": 3599, "access_token": "app-token"})
FORBIDDEN = (
    403,
    {"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges to complete the operation.", "innerError": {"request-id": "rid-1"}}},
)
NO_POLICY = (200, {"id": "00000000-0000-0000-0000-000000000000", "isEnabled": False})
REMOVED = (204, None)
PRINCIPAL = (200, {"value": [{"id": "5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c", "appId": APP_ID}]})
LOGIN_UNAVAILABLE = (
    503,
    {
        "error": "temporarily_unavailable",
        "error_codes": [90033],
        "correlation_id": "corr-503",
        "error_description": "AADSTS90033: A transient error has occurred. Please try again.",
    },
)
LOGIN_THROTTLED = (429, {"error": "temporarily_unavailable", "error_description": "AADSTS50196: too many requests"}, {"Retry-After": "3"})


def now():
    return datetime.now(timezone.utc).replace(microsecond=0)


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def credential(key_id, ends_in_days, description="modusCloud", started_days_ago=10):
    return {
        "keyId": key_id,
        "displayName": description,
        "hint": "Ab1",
        "secretText": None,
        "customKeyIdentifier": None,
        "startDateTime": iso(now() - timedelta(days=started_days_ago)),
        "endDateTime": iso(now() + timedelta(days=ends_in_days)),
    }


def application(*credentials):
    return (
        200,
        {
            "value": [
                {
                    "id": OBJECT_ID,
                    "appId": APP_ID,
                    "displayName": "modusCloud",
                    "createdDateTime": "2026-01-01T00:00:00Z",
                    "passwordCredentials": list(credentials),
                }
            ]
        },
    )


def created(lifetime_days=730):
    start = now()
    return (
        200,
        {
            "keyId": NEW_KEY,
            "displayName": "modusCloud",
            "hint": NEW_VALUE[:3],
            "secretText": NEW_VALUE,
            "customKeyIdentifier": None,
            "startDateTime": iso(start),
            "endDateTime": iso(start + timedelta(days=lifetime_days)),
        },
    )


def token_rejected(code):
    return (401, {"error": "invalid_client", "error_description": "AADSTS%d: the client secret is not valid. Trace ID: t1" % code, "error_codes": [code]})


class SecretRun(ScriptedRun):
    def graph_body(self, path_suffix):
        return [json.loads(call["body"]) for call in self.calls if call["url"].endswith(path_suffix)]

    def shown(self):
        """Everything a playbook prints besides the registered value itself: msg, warnings, diff, invocation."""
        visible = dict(self.result)
        visible.pop("value", None)
        return json.dumps(visible)


@pytest.fixture
def run(monkeypatch, capsys):
    clock = FakeTime()
    monkeypatch.setattr(secrets, "time", clock)
    monkeypatch.setattr(_secret_lease, "time", clock)

    def runner(args, answers, check_mode=False, diff=True):
        return run_scripted(module, dict(CONNECTION, **dict(BASE, **args)), answers, monkeypatch, capsys, check_mode=check_mode, diff=diff, run_class=SecretRun)

    return runner


@pytest.fixture
def tenant():
    """The tenant's Graph with the application (no client secret yet) and its service principal."""
    fake = FakeGraph()
    fake.tenant_id = TENANT
    app = fake.add_application("modusCloud", id=OBJECT_ID, appId=APP_ID, createdDateTime="2026-01-01T00:00:00Z")
    fake.client_principal(app)
    return fake


def holding(tenant, *credentials):
    """Give the application these client secrets (credential()s); the application."""
    app = tenant.applications[OBJECT_ID]
    app["passwordCredentials"] = list(credentials)
    return app


def created_key(tenant):
    """The keyId of the (last) client secret addPassword made."""
    return list(tenant.secret_texts)[-1]


def held_keys(tenant):
    return [credential["keyId"] for credential in tenant.applications[OBJECT_ID]["passwordCredentials"]]


@pytest.fixture
def apply(tenant, monkeypatch, capsys):
    """apply(args, check_mode=False, diff=True) -> a SecretRun of the module against `tenant` and the sign-in host."""
    clock = FakeTime()
    monkeypatch.setattr(secrets, "time", clock)
    monkeypatch.setattr(_secret_lease, "time", clock)
    sign_in = FakeSignIn(tenant)
    route_requests(monkeypatch, sign_in)

    def runner(args, check_mode=False, diff=True):
        start = len(sign_in.calls)
        result, output = run_main(module, dict(CONNECTION, **dict(BASE, **args)), capsys, check_mode=check_mode, diff=diff)
        return SecretRun(result, sign_in.calls[start:], output)

    runner.sign_in = sign_in
    return runner


def lifetime_sent(run_result, index=0):
    body = run_result.graph_body("/addPassword")[index]["passwordCredential"]
    return _secret_lifetime.parse_datetime(body["endDateTime"]) - _secret_lifetime.parse_datetime(body["startDateTime"])


# Create, rerun, check mode ---------------------------------------------------------------------------


def test_check_mode_predicts_the_creation_and_writes_nothing(apply, tenant):
    outcome = apply({}, check_mode=True)
    result = outcome.result
    assert result["changed"] is True and outcome.writes == []
    # A value of its own: handed on as a no_log key, it must not mask the predicted ids as well.
    assert result["key_id"] == PLACEHOLDER and result["value"] == SECRET_VALUE_PLACEHOLDER
    assert SECRET_VALUE_PLACEHOLDER not in PLACEHOLDER
    assert result["diff"]["before"] == {"client secret %s" % PLACEHOLDER: {"state": "absent"}}
    assert result["diff"]["after"]["client secret %s" % PLACEHOLDER]["description"] == "modusCloud"
    assert result["msg"].startswith("Would create client secret") and held_keys(tenant) == []


def test_first_run_creates_a_secret_proves_it_and_returns_the_value_once(apply, tenant):
    outcome = apply({})
    result = outcome.result
    new_key = created_key(tenant)
    new_value = tenant.secret_texts[new_key]
    assert result["changed"] is True and result["rotated"] is False
    assert result["value"] == new_value
    assert result["key_id"] == new_key and result["days_remaining"] in (729, 730) and held_keys(tenant) == [new_key]
    assert outcome.writes == [("POST", "/v1.0/applications/%s/addPassword" % OBJECT_ID)]
    assert lifetime_sent(outcome) == timedelta(days=730)
    body = outcome.graph_body("/addPassword")[0]["passwordCredential"]
    assert set(body) == {"displayName", "startDateTime", "endDateTime"}  # never a client-made keyId or secretText
    # The proof asked for a token as the application, with the new value.
    token_form = parse_qs(outcome.calls[-1]["body"])
    assert token_form["client_id"] == [APP_ID] and token_form["client_secret"] == [new_value]
    assert result["diff"]["after"] == {"client secret %s" % new_key: {"description": "modusCloud", "end_date": result["end_date"]}}
    assert new_value not in outcome.shown() and ADMIN_TOKEN not in outcome.output
    assert outcome.output.count(new_value) == 1


def test_a_rerun_with_a_valid_secret_creates_nothing_and_returns_no_value(apply, tenant):
    holding(tenant, credential(OLD_KEY, 700))
    outcome = apply({})
    result = outcome.result
    assert result["changed"] is False and "value" not in result and outcome.writes == []
    assert result["key_id"] == OLD_KEY and result["removed_key_ids"] == [] and result["days_remaining"] in (699, 700)
    assert result["diff"]["before"] == result["diff"]["after"]


def test_secrets_with_other_descriptions_are_left_alone(apply, tenant):
    holding(tenant, credential(OTHER_KEY, 5, description="backup job"))
    outcome = apply({})
    assert outcome.result["rotated"] is False and outcome.result["removed_key_ids"] == []
    assert [secret["key_id"] for secret in outcome.result["secrets"]] == [created_key(tenant)]
    assert held_keys(tenant) == [OTHER_KEY, created_key(tenant)]


# Rotation and hand-over ---------------------------------------------------------------------------------


def test_a_secret_inside_the_rotation_window_is_replaced_and_the_old_one_removed_after_the_proof(apply, tenant):
    holding(tenant, credential(OLD_KEY, 20, started_days_ago=710))
    outcome = apply({})
    result = outcome.result
    assert result["rotated"] is True and result["removed_key_ids"] == [OLD_KEY] and result["value"] == tenant.secret_texts[created_key(tenant)]
    assert held_keys(tenant) == [created_key(tenant)]
    # Order matters: the old secret goes only after the new one obtained a token.
    paths = [path for _method, path in outcome.requests]
    token, removal = "/%s/oauth2/v2.0/token" % TENANT, "/v1.0/applications/%s/removePassword" % OBJECT_ID
    assert paths.index(token) < paths.index(removal)
    assert outcome.graph_body("/removePassword") == [{"keyId": OLD_KEY}]
    assert result["diff"]["after"]["client secret %s" % OLD_KEY] == {"state": "absent"}


def test_check_mode_predicts_the_rotation_and_the_removal(apply, tenant):
    holding(tenant, credential(OLD_KEY, 20))
    outcome = apply({}, check_mode=True)
    assert outcome.result["rotated"] is True and outcome.result["removed_key_ids"] == [OLD_KEY]
    assert outcome.writes == [] and held_keys(tenant) == [OLD_KEY]


def test_the_check_mode_message_reads_as_one_sentence(apply, tenant):
    holding(tenant, credential(OLD_KEY, 600))
    outcome = apply({"force_rotate": True}, check_mode=True)
    assert outcome.result["msg"] == (
        "Would create client secret %s ending %s (force_rotate is set); would remove %s." % (PLACEHOLDER, outcome.result["end_date"], OLD_KEY)
    )


def test_without_exclusive_the_old_secret_stays_until_the_hand_over_is_done(apply, tenant):
    holding(tenant, credential(OLD_KEY, 20, started_days_ago=700))
    outcome = apply({"exclusive": False})
    new_key = created_key(tenant)
    assert outcome.result["rotated"] is True and outcome.result["removed_key_ids"] == []
    assert [secret["key_id"] for secret in outcome.result["secrets"]] == [OLD_KEY, new_key] and held_keys(tenant) == [OLD_KEY, new_key]

    # After modusCloud has the new value: keep only it.
    done = apply({"keep_key_id": new_key})
    assert done.result["changed"] is True and "value" not in done.result
    assert done.result["removed_key_ids"] == [OLD_KEY] and done.result["key_id"] == new_key and held_keys(tenant) == [new_key]


# Crash safety -----------------------------------------------------------------------------------------------


def test_an_orphan_left_by_a_crash_makes_the_rerun_rotate_and_leave_one_secret(apply, tenant):
    # A run created ORPHAN_KEY and died before returning its value; OLD_KEY is what the consumer may hold.
    holding(tenant, credential(OLD_KEY, 600, started_days_ago=130), credential(ORPHAN_KEY, 729, started_days_ago=1))
    outcome = apply({})
    result = outcome.result
    new_key = created_key(tenant)
    assert result["rotated"] is True and result["value"] == tenant.secret_texts[new_key]
    assert sorted(result["removed_key_ids"]) == sorted([OLD_KEY, ORPHAN_KEY])
    assert [secret["key_id"] for secret in result["secrets"]] == [new_key] and held_keys(tenant) == [new_key]
    assert "2 secrets carry the description" in result["msg"]


def test_force_rotate_replaces_a_single_orphan_whose_value_nobody_holds(apply, tenant):
    holding(tenant, credential(ORPHAN_KEY, 729))
    outcome = apply({"force_rotate": True})
    assert outcome.result["removed_key_ids"] == [ORPHAN_KEY] and outcome.result["value"] == tenant.secret_texts[created_key(tenant)]
    assert held_keys(tenant) == [created_key(tenant)]


def test_keep_key_id_removes_an_orphan_without_creating_anything(apply, tenant):
    holding(tenant, credential(OLD_KEY, 600), credential(ORPHAN_KEY, 729))
    outcome = apply({"keep_key_id": OLD_KEY})
    assert outcome.result["removed_key_ids"] == [ORPHAN_KEY] and "value" not in outcome.result
    assert held_keys(tenant) == [OLD_KEY] and tenant.secret_texts == {}


def test_a_secret_that_never_works_is_removed_again_and_the_old_one_kept(run):
    # Scripted on purpose: the number of sign-in attempts before the timeout (the delay schedule) is the point.
    answers = [application(credential(OLD_KEY, 20)), NO_POLICY, PRINCIPAL, created()]
    # Delays 1, 2, 4, 8, 15, 15, 15 s: the 8th rejection comes at the 60 s timeout.
    answers += [OIDC, token_rejected(7000215)] * 8 + [REMOVED]
    outcome = run({"wait_timeout": 60}, answers)
    result = outcome.result
    assert result.get("failed") is True
    assert "was created but it was still rejected" in result["msg"] and "removed again" in result["msg"]
    assert outcome.graph_body("/removePassword") == [{"keyId": NEW_KEY}]  # the new one, never OLD_KEY
    assert NEW_VALUE not in outcome.output


def test_propagation_delay_is_waited_out(run):
    # Scripted on purpose: the point is the proof going on through a given sequence of propagation refusals.
    outcome = run({}, [application(), NO_POLICY, PRINCIPAL, created(), OIDC, token_rejected(7000215), OIDC, token_rejected(7000222), OIDC, TOKEN])
    assert outcome.result["value"] == NEW_VALUE and outcome.result["changed"] is True


def test_a_sign_in_host_that_fails_for_a_while_during_the_proof_is_waited_out(run):
    # Scripted on purpose: the point is the proof going on through a given sequence of sign-in host failures.
    outcome = run({}, [application(), NO_POLICY, PRINCIPAL, created(), OIDC, LOGIN_UNAVAILABLE, OIDC, LOGIN_THROTTLED, OIDC, TOKEN])
    assert outcome.result["value"] == NEW_VALUE and outcome.result["changed"] is True
    assert outcome.graph_body("/removePassword") == []


def test_a_sign_in_host_that_keeps_failing_past_wait_timeout_leaves_no_new_secret(apply, tenant):
    holding(tenant, credential(OLD_KEY, 20))
    apply.sign_in.unavailable = True
    outcome = apply({"wait_timeout": 0})
    result = outcome.result
    assert result["failed"] is True and result["changed"] is False
    assert "HTTP 503 temporarily_unavailable" in result["msg"] and "removed again" in result["msg"]
    assert outcome.graph_body("/removePassword") == [{"keyId": created_key(tenant)}] and held_keys(tenant) == [OLD_KEY]
    assert tenant.secret_texts[created_key(tenant)] not in outcome.output


def test_any_failure_of_the_proof_removes_the_new_secret(apply, tenant, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the proof broke")

    monkeypatch.setattr(secrets, "acquire_token", broken)
    holding(tenant, credential(OLD_KEY, 20))
    outcome = apply({})
    result = outcome.result
    assert result["failed"] is True and result["changed"] is False
    assert "RuntimeError: the proof broke" in result["msg"] and "removed again" in result["msg"]
    assert outcome.graph_body("/removePassword") == [{"keyId": created_key(tenant)}] and held_keys(tenant) == [OLD_KEY]


def test_a_new_secret_that_cannot_be_removed_again_is_reported_as_a_change(apply, tenant):
    apply.sign_in.unavailable = True
    tenant.fail("POST", "/removePassword$", 500, "generalException", "boom", times=10)
    outcome = apply({"wait_timeout": 0})
    result = outcome.result
    assert result["failed"] is True and result["changed"] is True
    assert created_key(tenant) in result["msg"] and "removing it again failed too" in result["msg"]
    assert tenant.secret_texts[created_key(tenant)] not in outcome.output and held_keys(tenant) == [created_key(tenant)]


def test_a_created_secret_without_its_text_is_removed_again(apply, tenant):
    status, body = created()
    tenant.answer("POST", "/addPassword$", status, dict(body, secretText=None))
    outcome = apply({})
    assert outcome.result["failed"] is True and outcome.result["changed"] is False
    assert "returned no secret text" in outcome.result["msg"]
    assert outcome.graph_body("/removePassword") == [{"keyId": NEW_KEY}]


def test_a_failed_cleanup_after_a_good_rotation_still_returns_the_value(apply, tenant):
    holding(tenant, credential(OLD_KEY, 20))
    tenant.fail("POST", "/removePassword$", 500, "generalException", "boom", times=10)
    outcome = apply({})
    new_key = created_key(tenant)
    assert outcome.result["value"] == tenant.secret_texts[new_key] and outcome.result["removed_key_ids"] == []
    assert any("keep_key_id: %s" % new_key in warning for warning in outcome.warnings)
    assert tenant.secret_texts[new_key] not in outcome.shown() and held_keys(tenant) == [OLD_KEY, new_key]


# Tenant lifetime policy ------------------------------------------------------------------------------------


def test_a_lifetime_over_the_policy_is_clamped_with_a_warning(apply, tenant):
    tenant.password_max_days = 180
    outcome = apply({})
    assert lifetime_sent(outcome) == timedelta(days=180)
    assert any("exceeds the tenant's app management policy maximum of 180 days" in w for w in outcome.warnings)


def test_without_clamping_a_lifetime_over_the_policy_fails_before_writing(apply, tenant):
    tenant.password_max_days = 180
    outcome = apply({"clamp_to_policy": False})
    assert outcome.result["failed"] is True and outcome.writes == []
    assert "at most 180 days" in outcome.result["msg"]


def test_never_expires_gets_the_policy_maximum_and_says_so(apply, tenant):
    tenant.password_max_days = 180
    outcome = apply({"never_expires": True})
    assert lifetime_sent(outcome) == timedelta(days=180)
    assert any(w.startswith("never_expires: the tenant's app management policy allows secrets of at most 180 days") for w in outcome.warnings)


def test_never_expires_with_an_unreadable_policy_learns_the_limit_from_the_refusals(apply, tenant):
    tenant.password_max_days = 180
    tenant.answer("GET", "^/policies/defaultAppManagementPolicy$", *FORBIDDEN)
    outcome = apply({"never_expires": True})
    assert [lifetime.days for lifetime in (lifetime_sent(outcome, i) for i in range(4))] == [99 * 365, 730, 365, 180]
    assert any("got 180 days" in w for w in outcome.warnings)


def test_never_expires_without_any_policy_says_when_it_ends(apply):
    outcome = apply({"never_expires": True})
    assert any("no tenant lifetime policy limits it" in w for w in outcome.warnings)


# Removal and bad input -------------------------------------------------------------------------------------


def test_absent_removes_only_the_secrets_with_the_description(apply, tenant):
    holding(tenant, credential(OLD_KEY, 300), credential(ORPHAN_KEY, 700), credential(OTHER_KEY, 300, description="backup job"))
    outcome = apply({"state": "absent"})
    assert held_keys(tenant) == [OTHER_KEY]
    assert sorted(body["keyId"] for body in outcome.graph_body("/removePassword")) == sorted([OLD_KEY, ORPHAN_KEY])
    assert outcome.result["key_id"] is None and outcome.result["secrets"] == []


@pytest.mark.parametrize(
    "check_mode, expected",
    [
        (False, "Removed 2 client secrets with the description 'modusCloud': %s, %s."),
        (True, "Would remove 2 client secrets with the description 'modusCloud': %s, %s."),
    ],
    ids=["apply", "check"],
)
def test_absent_says_which_secrets_it_removed_or_would_remove(apply, tenant, check_mode, expected):
    holding(tenant, credential(OLD_KEY, 300), credential(ORPHAN_KEY, 700))
    outcome = apply({"state": "absent"}, check_mode=check_mode)
    assert held_keys(tenant) == ([OLD_KEY, ORPHAN_KEY] if check_mode else [])
    assert outcome.result["msg"] == expected % tuple(outcome.result["removed_key_ids"])
    assert sorted(outcome.result["removed_key_ids"]) == sorted([OLD_KEY, ORPHAN_KEY])
    assert (outcome.writes == []) is check_mode


def test_a_removal_that_fails_after_others_succeeded_reports_the_change(run):
    # Scripted on purpose: the second of two removals fails, after the first succeeded.
    refused = (500, {"error": {"code": "generalException", "message": "boom"}})
    outcome = run({"state": "absent"}, [application(credential(OLD_KEY, 300), credential(ORPHAN_KEY, 700)), REMOVED, refused])
    result = outcome.result
    assert result["failed"] is True and result["changed"] is True
    assert result["removed_key_ids"] == [OLD_KEY] and "boom" in result["msg"] and OLD_KEY in result["msg"]


def test_absent_when_nothing_carries_the_description_is_unchanged(apply, tenant):
    holding(tenant, credential(OTHER_KEY, 300, description="backup job"))
    outcome = apply({"state": "absent"})
    assert outcome.result["changed"] is False and outcome.writes == []
    assert outcome.result["msg"] == "No client secret carries the description 'modusCloud': none to remove."


@pytest.mark.parametrize("check_mode", [False, True], ids=["apply", "check"])
def test_absent_for_an_application_that_does_not_exist_is_unchanged(apply, tenant, check_mode):
    tenant.applications.clear()
    outcome = apply({"state": "absent"}, check_mode=check_mode)
    result = outcome.result
    assert result.get("failed") is not True and result["changed"] is False and outcome.writes == []
    assert result["removed_key_ids"] == [] and result["secrets"] == [] and result["key_id"] is None
    assert result["msg"] == "No application with app_id %s exists, so no client secret to remove." % APP_ID


@pytest.mark.parametrize("check_mode", [False, True], ids=["apply", "check"])
def test_the_proof_needs_authority_host_when_graph_url_is_not_microsoft_graph(apply, monkeypatch, check_mode):
    monkeypatch.delenv("AZURE_AUTHORITY_HOST", raising=False)
    outcome = apply({"authority_host": None}, check_mode=check_mode)
    result = outcome.result
    assert result["failed"] is True and outcome.calls == []
    assert "graph_url %s is not Microsoft Graph and authority_host is not set" % GRAPH in result["msg"]
    assert "wait_usable: false" in result["msg"]


def test_without_the_proof_graph_url_alone_is_enough(apply, tenant, monkeypatch):
    monkeypatch.delenv("AZURE_AUTHORITY_HOST", raising=False)
    holding(tenant, credential(OLD_KEY, 700))
    outcome = apply({"authority_host": None, "wait_usable": False})
    assert outcome.result.get("failed") is not True and outcome.result["key_id"] == OLD_KEY


def test_bad_options_fail_before_any_request(apply):
    outcome = apply({"lifetime_days": 10})
    assert outcome.result["failed"] is True and "rotate_before_days" in outcome.result["msg"] and outcome.calls == []


def test_an_unknown_application_fails_naming_it(apply, tenant, monkeypatch):
    monkeypatch.setattr(_graph, "VISIBILITY_WAITS", ())
    tenant.applications.clear()
    outcome = apply({})
    assert outcome.result["failed"] is True and APP_ID in outcome.result["msg"]


def test_without_a_service_principal_the_proof_is_impossible_and_nothing_is_created(apply, tenant):
    tenant.service_principals = dict((key, sp) for key, sp in tenant.service_principals.items() if sp["appId"] != APP_ID)
    outcome = apply({})
    assert outcome.result["failed"] is True and outcome.writes == []
    assert "no service principal" in outcome.result["msg"] and "azure_app_consent" in outcome.result["msg"]


def test_without_the_proof_no_service_principal_is_needed(apply, tenant):
    tenant.service_principals = dict((key, sp) for key, sp in tenant.service_principals.items() if sp["appId"] != APP_ID)
    outcome = apply({"wait_usable": False})
    assert outcome.result["value"] == tenant.secret_texts[created_key(tenant)]


def test_check_mode_chains_from_an_application_an_earlier_task_would_create(apply, tenant):
    tenant.applications.clear()
    outcome = apply({"app_id": PLACEHOLDER}, check_mode=True)
    assert outcome.result["changed"] is True and outcome.result["key_id"] == PLACEHOLDER
    # The placeholder says by itself that an earlier task creates the application: no warning to repeat it.
    assert outcome.warnings == []


@pytest.mark.parametrize(
    "placeholder, message",
    [
        ({"keep_key_id": PLACEHOLDER}, "keep_key_id is the check mode placeholder"),
        ({"app_id": PLACEHOLDER}, "app_id is (known after apply), the check-mode placeholder of an application"),
    ],
)
def test_outside_check_mode_a_placeholder_is_refused_before_any_request(apply, placeholder, message):
    outcome = apply(placeholder)
    assert outcome.result["failed"] is True and message in outcome.result["msg"]
    assert outcome.writes == [] and outcome.calls == []


def test_check_mode_finishing_a_planned_hand_over_predicts_removing_the_others(apply, tenant):
    holding(tenant, credential(OLD_KEY, 600))
    outcome = apply({"keep_key_id": PLACEHOLDER}, check_mode=True)
    assert outcome.result["changed"] is True and outcome.result["removed_key_ids"] == [OLD_KEY]
    assert outcome.writes == []


def test_the_application_is_found_by_app_id(apply, tenant):
    holding(tenant, credential(OLD_KEY, 700))
    outcome = apply({})
    assert parse_qs(urlsplit(outcome.calls[0]["url"]).query)["$filter"] == ["appId eq '%s'" % APP_ID]


def test_the_kb_name_application_id_is_an_alias_of_app_id(apply, tenant):
    holding(tenant, credential(OLD_KEY, 700))
    outcome = apply({"app_id": None, "application_id": APP_ID})
    assert outcome.result["key_id"] == OLD_KEY
    assert parse_qs(urlsplit(outcome.calls[0]["url"]).query)["$filter"] == ["appId eq '%s'" % APP_ID]


def test_a_secret_removed_meanwhile_by_another_run_counts_as_removed(apply, tenant):
    holding(tenant, credential(OLD_KEY, 600), credential(ORPHAN_KEY, 729))
    tenant.fail("POST", "/removePassword$", 404, "Request_ResourceNotFound", "No password credential with keyId.")
    outcome = apply({"keep_key_id": OLD_KEY})
    assert outcome.result["changed"] is True and outcome.result["removed_key_ids"] == [ORPHAN_KEY]


# What the consumer (modusCloud) holds decides a new key ------------------------------------------------------


def consumer(**overrides):
    held = {"configured": True, "application_id": APP_ID, "secret_expiry": "2028-01-01", "secret_days_remaining": 600}
    held.update(overrides)
    return held


def test_a_consumer_without_settings_gets_a_new_key_and_unused_secrets_go_at_once(apply, tenant):
    holding(tenant, credential(ORPHAN_KEY, 700))
    outcome = apply({"consumer": consumer(configured=False, application_id=None)})
    result = outcome.result
    assert result["value"] == tenant.secret_texts[created_key(tenant)] and result["removed_key_ids"] == [ORPHAN_KEY]
    assert held_keys(tenant) == [created_key(tenant)]
    assert result["new_key_reason"] == "modusCloud has no Azure AD settings yet"
    assert "(modusCloud has no Azure AD settings yet)" in result["msg"]


def test_a_settings_change_hands_over_a_new_key_keeping_the_one_in_use_for_now(apply, tenant):
    holding(tenant, credential(OLD_KEY, 600))
    outcome = apply({"consumer": consumer(settings_changes=["sync_frequency_hours"])})
    result = outcome.result
    assert result["value"] == tenant.secret_texts[created_key(tenant)] and result["removed_key_ids"] == []
    assert held_keys(tenant) == [OLD_KEY, created_key(tenant)]
    assert "the import settings change (sync_frequency_hours)" in result["new_key_reason"]
    assert "the import settings change (sync_frequency_hours)" in result["msg"]


def test_a_consumer_holding_a_usable_key_of_this_application_gets_none(apply, tenant):
    holding(tenant, credential(OLD_KEY, 600))
    outcome = apply({"consumer": consumer(application_id=APP_ID.upper(), settings_changes=["add_users"], new_key_with_settings_change=False)})
    result = outcome.result
    assert result["changed"] is False and "value" not in result and result["new_key_reason"] is None


def test_check_mode_predicts_the_consumers_new_key_with_its_reason(apply, tenant):
    other = "0b5e7a52-6f21-4c1e-8a44-1d9f3e2c7b60"
    holding(tenant, credential(OLD_KEY, 600))
    outcome = apply({"consumer": consumer(application_id=other)}, check_mode=True)
    result = outcome.result
    assert outcome.writes == [] and result["key_id"] == PLACEHOLDER and result["removed_key_ids"] == [OLD_KEY]
    assert result["new_key_reason"] == "modusCloud uses another application (%s)" % other
    assert result["msg"].startswith("Would create client secret")


def test_the_consumer_only_applies_to_state_present(apply):
    outcome = apply({"state": "absent", "consumer": consumer()})
    assert outcome.result["failed"] is True and "consumer only apply to state=present" in outcome.result["msg"]


def test_releasing_the_lease_shows_it_in_the_diff(apply, tenant):
    lease = "%sholder-a,%s" % (_graph_wire.TAG_WIRE["lease"], iso(now() + timedelta(seconds=600)))
    holding(tenant)["tags"] = ["HideApp", lease]
    outcome = apply({"lease_holder": "holder-a", "release_lease": True})
    result = outcome.result
    assert result["changed"] is True and outcome.graph_body("/applications/%s" % OBJECT_ID) == [{"tags": ["HideApp"]}]
    assert result["diff"]["before"] == {"hand-over lease of application %s" % APP_ID: {"holder": "holder-a"}}
    assert tenant.applications[OBJECT_ID]["tags"] == ["HideApp"]
    again = apply({"lease_holder": "holder-a", "release_lease": True})
    assert again.result["changed"] is False and again.writes == []


def test_without_a_hand_over_the_new_secret_s_lease_is_released_at_once(apply, tenant):
    outcome = apply({"lease_holder": "holder-a", "hand_over": False})
    assert outcome.result["changed"] is True and outcome.result["value_held"] is True
    assert not [tag for tag in tenant.applications[OBJECT_ID]["tags"] or [] if tag.startswith(_graph_wire.TAG_WIRE["lease"])]
    # With a hand-over to follow (the default), the lease stays for the task that finishes it.
    holding(tenant)
    apply({"lease_holder": "holder-b", "force_rotate": True})
    assert [tag for tag in tenant.applications[OBJECT_ID]["tags"] if tag.startswith(_graph_wire.TAG_WIRE["lease"] + "holder-b,")]


# What a role asks of the result ------------------------------------------------------------------------


def test_value_held_says_whether_value_is_a_new_secret_s_real_value(apply, tenant):
    assert apply({}).result["value_held"] is True
    # In check mode the value is a placeholder; without a new secret there is no value.
    holding(tenant)
    assert apply({}, check_mode=True).result["value_held"] is False
    holding(tenant, credential(OLD_KEY, 700))
    assert apply({}).result["value_held"] is False


def test_validate_only_checks_the_options_and_makes_no_request(apply):
    outcome = apply({"validate_only": True, "app_id": PLACEHOLDER}, check_mode=True)
    assert outcome.result["validated"] is True and outcome.result["changed"] is False
    assert outcome.calls == []
    refused = apply({"validate_only": True, "description": " "})
    assert refused.result["failed"] is True and "description must not be empty" in refused.result["msg"]
    assert refused.calls == []


@pytest.mark.parametrize(
    "args, options",
    [
        ({"description": " "}, ["description"]),
        ({"lifetime_days": 0}, ["lifetime_days"]),
        ({"rotate_before_days": 800}, ["rotate_before_days"]),
        ({"lifetime_days": 30, "never_expires": True}, ["lifetime_days", "never_expires"]),
        ({"app_id": PLACEHOLDER}, ["app_id"]),
    ],
)
def test_a_failure_names_the_options_it_is_about(apply, args, options):
    refused = apply(dict({"validate_only": True}, **args))
    assert refused.result["failed"] is True and refused.result["invalid_options"] == options
    assert refused.calls == []


def test_validate_only_in_check_mode_returns_the_placeholder_a_new_secret_s_value_would_have(apply):
    dry = apply({"validate_only": True, "app_id": PLACEHOLDER}, check_mode=True)
    assert dry.result["value_placeholder"] == SECRET_VALUE_PLACEHOLDER and "value" not in dry.result
    assert "value_placeholder" not in apply({"validate_only": True}).result

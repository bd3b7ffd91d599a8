# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""One run of azure_app_secret: find the application, carry the secret plan out through the Graph client
(lease, create, proof that the new secret obtains a token, removal) and build the result.

Private to this collection: no compatibility promise outside it.

The decisions are in _secret_plan.py, the lease in _secret_lease.py; check mode, `changed` and the diff
go through _state.py's ChangeSet. A secret's value (`secretText`) exists only in the addPassword answer:
it is handed back to the caller once and never put into a view, a message or a diff.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import time
from datetime import timedelta

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._auth_access_token import token_tenant
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._auth_base import TokenError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._connection import (
    TRANSPORT_OPTIONS,
    acquire_token,
    sign_in_host_unknown,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import ApiError, SecretError, ServiceError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_wire import GUID, described_identity
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._secret_lease import (
    DEFAULT_LEASE_SECONDS,
    check_lease,
    finish_hand_over,
    handed_over_key_id,
    holds_lease,
    release_lease,
    take_lease,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._secret_lifetime import (
    FALLBACK_LIFETIME_DAYS,
    MAX_LIFETIME_DAYS,
    POLICY_ERROR_CODE,
    UNKNOWN_POLICY,
    check_rotation_window,
    days_remaining,
    describe_lifetime,
    fallback_lifetimes,
    fit_to_policy,
    format_datetime,
    never_expires_note,
    parse_datetime,
    password_policy,
    requested_end,
    utc_now,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._secret_plan import (
    Secret,
    absent_message,
    consumer_reason,
    credential_body,
    diff_view,
    is_propagation_error,
    label,
    message,
    plan_absent,
    plan_keep_predicted,
    plan_present,
    public_view,
    secrets_of,
    with_description,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._state import (
    PLACEHOLDER,
    SECRET_VALUE_PLACEHOLDER,
    is_placeholder,
)

# ---------------------------------------------------------------------------------------------
# The module's run
# ---------------------------------------------------------------------------------------------


def manage_secret(module):
    """The module's run: the result for exit_json."""
    params = module.params
    changes = module.changes
    now = utc_now().replace(microsecond=0)
    end_date = check_options(params, now)
    if params["validate_only"]:  # the options are checked; nothing is read or written
        result = {"validated": True, "value_held": False, "msg": "The client secret's options are valid."}
        # For a later task of a dry run that needs a key before the secret exists: what `value` would be.
        placeholder = changes.planned(SECRET_VALUE_PLACEHOLDER)
        if placeholder is not None:
            result["value_placeholder"] = placeholder
        return result
    application = find_application(module)
    if params["release_lease"]:
        holder = params["lease_holder"]
        released = changes.live(release_lease, module.graph, application, holder, dry=holds_lease(application, holder))
        if released:
            changes.record("hand-over lease of application %s" % application["appId"], {"holder": holder}, None)
        return {"app_id": application["appId"], "msg": "Released the hand-over lease of %s." % holder if released else "%s holds no hand-over lease." % holder}

    prove = None
    if params["state"] == "present" and params["wait_usable"]:
        prove = changes.live(prover, params, application["appId"], module.connection.token)
    # A new value is masked in any failure message from the moment it exists; it is unmasked only to be
    # returned, as the result's `value`.
    issued = []

    def hide(value):
        issued.append(value)
        module.no_log_values.add(value)

    result, notes = ensure_secret(module.graph, application, params, end_date, changes, now, prove=prove, hide=hide)
    for value in issued:
        module.no_log_values.discard(value)
    for warning in notes:
        module.warn(warning)
    result["app_id"] = application["appId"]
    # Whether `value` is a new secret's real value (check mode returns a placeholder for it).
    result["value_held"] = result.get("value") not in (None, SECRET_VALUE_PLACEHOLDER)
    if application["id"] is None:
        result["msg"] = "No application with %s exists, so no client secret to remove." % described_identity(params)
    return result


def find_application(module):
    """The application, or a stand-in: with state=absent an empty one when there is none; with state=present, in
    check mode, a placeholder for an application an earlier task would create."""
    application = module.named_application()
    if application is None and module.params["state"] == "absent":
        # No application, so none of its secrets to remove.
        return {"id": None, "appId": module.params["app_id"], "passwordCredentials": []}
    if application is None:  # check mode: the application an earlier task would create
        return {"id": PLACEHOLDER, "appId": module.params["app_id"] or PLACEHOLDER, "passwordCredentials": []}
    return application


def prover(params, app_id, module_token=None):
    """prove(value): wait until the new secret obtains a token for the application.

    Without tenant_id, the tenant is the one of the module's own token (`module_token()`).
    """
    tenant_id = params["tenant_id"] or (params["access_token"] and token_tenant(params["access_token"])) or (module_token and token_tenant(module_token()))
    if not tenant_id:
        raise SecretError(
            "wait_usable needs tenant_id to request a token with the new secret (the module's token "
            "does not name its tenant); set tenant_id, or wait_usable: false",
            options=("tenant_id", "wait_usable"),
        )
    transport = dict((name, params.get(name)) for name in TRANSPORT_OPTIONS)

    def prove(value):
        # The wait retries every transient answer within wait_timeout, so the sign-in itself does not.
        wait_until_usable(lambda: acquire_token(tenant_id, app_id, client_secret=value, max_retries=0, **transport), params["wait_timeout"])

    return prove


# ---------------------------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------------------------


def check_options(params, now):
    """Refuse contradictory or impossible options before any request; return end_date parsed (or None)."""
    removing = params["state"] == "absent"
    nothing_removed = " Nothing was removed." if removing else ""
    if not (params.get("description") or "").strip():
        raise SecretError(
            "description must not be empty: it is the marker that tells this module's secrets apart; got %s.%s"
            % (json.dumps(params.get("description")), nothing_removed),
            options=("description",),
        )
    if removing:
        given = [name for name in ("keep_key_id", "force_rotate", "consumer") if params.get(name)]
        if given:
            raise SecretError(
                "%s only apply to state=present; state=absent removes every secret with the description.%s" % (" and ".join(given), nothing_removed),
                options=given,
            )
        return None
    if params.get("wait_usable") and sign_in_host_unknown(params.get("cloud"), params.get("authority_host"), params.get("graph_url")):
        raise SecretError(
            "wait_usable proves a new secret by signing in with it, but graph_url %s is not Microsoft "
            "Graph and authority_host is not set, so the sign-in host that issues tokens for it is "
            "unknown: set authority_host (or AZURE_AUTHORITY_HOST) to it, or set wait_usable: false" % params["graph_url"],
            options=("graph_url", "authority_host", "wait_usable"),
        )
    # A placeholder (check mode only: GraphModule refuses it in a real run) stands for the key_id of a predicted secret.
    if params.get("keep_key_id") is not None and not is_placeholder(params["keep_key_id"]) and not GUID.match(params["keep_key_id"]):
        raise SecretError(
            "keep_key_id %r is not a key id: expected a GUID such as the key_id this module returned" % params["keep_key_id"], options=("keep_key_id",)
        )
    # Checked here rather than by mutually_exclusive, which also counts never_expires: false.
    chosen = [name for name in ("lifetime_days", "end_date") if params.get(name) is not None]
    chosen += ["never_expires"] if params.get("never_expires") else []
    if len(chosen) > 1:
        raise SecretError("%s are mutually exclusive: set one way of choosing the lifetime of a new secret" % " and ".join(chosen), options=chosen)
    for name, lowest in (("rotate_before_days", 0), ("lifetime_days", 1), ("wait_timeout", 0)):
        if params.get(name) is not None and params[name] < lowest:
            raise SecretError("%s must be %d or more, got %d" % (name, lowest, params[name]), options=(name,))
    if params.get("lease_seconds") is not None and params["lease_seconds"] < 1:
        raise SecretError("lease_seconds must be 1 or more, got %d" % params["lease_seconds"], options=("lease_seconds",))
    if params.get("lifetime_days") is not None and params["lifetime_days"] > MAX_LIFETIME_DAYS:
        raise SecretError(
            "lifetime_days must be at most %d (10 years; the Entra portal offers at most 730), got %d: "
            "set never_expires: true for the longest lifetime the tenant allows" % (MAX_LIFETIME_DAYS, params["lifetime_days"]),
            options=("lifetime_days",),
        )
    end_date = None
    if params.get("end_date"):
        try:
            end_date = parse_datetime(params["end_date"])
        except ValueError as err:
            raise SecretError("end_date: %s" % err, options=("end_date",))
        if end_date <= now:
            raise SecretError("end_date %s is not in the future" % format_datetime(end_date), options=("end_date",))
    if not params.get("never_expires"):
        check_rotation_window(requested_end(now, params["lifetime_days"], end_date) - now, params["rotate_before_days"])
    return end_date


# ---------------------------------------------------------------------------------------------
# Proving a new secret works
# ---------------------------------------------------------------------------------------------


def wait_until_usable(acquire, timeout, sleep=None, clock=None, first_delay=1.0, max_delay=15.0):
    """Call acquire() until it returns a token; return the number of attempts.

    Entra rejects a new secret for seconds to minutes (invalid_client), and its sign-in host may
    throttle or fail for a while (429, 5xx, no answer); those TokenErrors are retried with doubling
    delays (at least the Retry-After Entra asked for) until `timeout` seconds have passed. Any other
    error ends the wait.
    """
    sleep = sleep or time.sleep
    clock = clock or time.monotonic
    deadline = clock() + timeout
    delay = first_delay
    attempts = 0
    while True:
        attempts += 1
        try:
            acquire()
            return attempts
        except TokenError as err:
            if not (err.transient or is_propagation_error(err)):
                raise SecretError("it does not obtain a token: %s" % err)
            remaining = deadline - clock()
            if remaining <= 0:
                raise SecretError("it was still rejected after %d attempts in %d seconds (wait_timeout): %s" % (attempts, timeout, err))
            pause = max(delay, err.retry_after or 0)
        sleep(min(pause, remaining))
        delay = min(delay * 2, max_delay)


# ---------------------------------------------------------------------------------------------
# Graph calls
# ---------------------------------------------------------------------------------------------


def read_password_policy(graph, application):
    """The tenant default policy for this app's secrets; UNKNOWN_POLICY when it may not be read."""
    try:
        document = graph.get_default_app_management_policy()
    except ApiError as err:
        if err.status in (401, 403, 404):  # reading needs Policy.Read.All; addPassword's answer still tells
            return UNKNOWN_POLICY
        raise
    return password_policy(document, application.get("createdDateTime"))


def add_secret(graph, object_id, description, start, end, shorten=True, policy_known=False):
    """addPassword; returns (credential with secretText, warnings).

    When the tenant refuses the lifetime (CredentialInvalidLifetimeAsPerAppPolicy: a policy we
    could not read, or one assigned to the app), `shorten` retries with the usual shorter limits.
    A refused call creates nothing, so retrying cannot leave an orphan.
    """
    try:
        return graph.add_password(object_id, credential_body(description, start, end)), []
    except ApiError as err:
        if err.code != POLICY_ERROR_CODE:
            raise
        refusal = err
    rejected = end - start
    if not shorten:
        raise SecretError(
            "The tenant's app management policy refuses a secret lifetime of %s (%s). Ask for a "
            "shorter lifetime_days or end_date, or set clamp_to_policy: true." % (describe_lifetime(rejected), refusal)
        )
    for lifetime in fallback_lifetimes(rejected):
        try:
            credential = graph.add_password(object_id, credential_body(description, start, start + lifetime))
        except ApiError as err:
            if err.code != POLICY_ERROR_CODE:
                raise
            continue
        unread = (
            "a policy assigned to the application, stricter than the tenant default"
            if policy_known
            else "the tenant's app management policy, which could not be read (that needs Policy.Read.All)"
        )
        return credential, [
            "A secret lifetime of %s was refused by %s; the secret got %s, the longest of the usual "
            "limits (%s days) that was accepted."
            % (describe_lifetime(rejected), unread, describe_lifetime(lifetime), ", ".join(str(days) for days in FALLBACK_LIFETIME_DAYS))
        ]
    raise SecretError("The tenant's app management policy refuses every secret lifetime down to 1 day (%s)." % refusal)


# ---------------------------------------------------------------------------------------------
# Carrying the plan out
# ---------------------------------------------------------------------------------------------


def ensure_secret(graph, application, params, end_date, changes, now, prove=None, hide=None):
    """Bring the secrets that carry params["description"] to the state the options ask for.

    prove(value) raises when a new value obtains no token; None skips the proof. Whatever fails once
    a secret was created removes it again (SecretError with changed=True if that fails too).
    hide(value) is called as soon as a value exists, so that any failure afterwards is masked (the
    caller stops masking once it returns the value). Returns (result, warnings).
    """
    description = params["description"]
    holder = params.get("lease_holder")
    force_reason, uses_app = consumer_reason(params.get("consumer"), application["appId"], params["rotate_before_days"])
    # With what modusCloud holds (consumer), the secret it uses stays until it has the new one; others may go.
    exclusive = params["exclusive"] if params.get("exclusive") is not None else not uses_app

    def planned(application, force_rotate, force_reason):
        ours = with_description(secrets_of(application), description)
        if params["state"] == "absent":
            return ours, plan_absent(ours)
        if is_placeholder(params.get("keep_key_id")):
            return ours, plan_keep_predicted(ours, exclusive)
        return ours, plan_present(
            ours, now, params["rotate_before_days"], params.get("keep_key_id"), force_rotate, exclusive, handed_over_key_id(application), force_reason
        )

    ours, plan = planned(application, params.get("force_rotate"), force_reason)
    lease_notes = []
    if plan.create and holder:
        # Another run may be handing over a secret of this application: wait for it, then plan again.
        application, waited_for = changes.live(
            take_lease,
            graph,
            application,
            holder,
            params.get("lease_seconds") or DEFAULT_LEASE_SECONDS,
            params.get("wait_timeout") or 0,
            sleep=getattr(graph, "_sleep", None),
            dry=(application, None),
        )
        if waited_for is not None:
            # The other run has just handed over a new secret: the reasons this run had to force one are stale.
            ours, plan = planned(application, False, None)
            if not plan.create:  # only a real run waits (it took the lease above), so it gives it up again
                changes.write(release_lease, graph, application, holder)
                lease_notes.append(
                    "Another run (%s) handed over a new client secret of this application while this "
                    "run waited for its lease, so this run keeps that secret instead of creating one." % waited_for
                )
        else:
            ours, plan = planned(application, params.get("force_rotate"), force_reason)
    hand_over = holder and params.get("keep_key_id") and params["state"] == "present"
    if hand_over:
        # This run took the lease in the task that created the secret (in check mode it took none).
        changes.write(check_lease, application, holder)

    warnings, value, kept = lease_notes, None, plan.current
    if kept is not None:
        changes.ensure(label(kept), diff_view(kept), diff_view(kept))
    if plan.create:
        kept, value, notes = _create(graph, application, params, end_date, changes, now, prove, hide)
        warnings.extend(notes)
        if holder and params.get("hand_over") is False:
            # No later task of this run hands the secret over: the next run need not wait for the lease to expire.
            changes.write(release_lease, graph, application, holder)

    by_id = dict((secret.key_id, secret) for secret in ours)
    removed = []
    for key_id in plan.remove:
        try:
            changes.write(graph.remove_password, application["id"], key_id)
        except ApiError as err:
            if err.status != 404:  # 404: removed meanwhile by another run, so gone as asked
                if value is None and removed:
                    raise SecretError(
                        "%s; client secret%s %s had been removed before" % (err, "s" if len(removed) > 1 else "", ", ".join(removed)),
                        changed=True,
                        removed_key_ids=removed,
                        **err.to_result(),
                    )
                if value is None:
                    raise
                # The new secret exists and works: return it; the next run with keep_key_id finishes the cleanup.
                warnings.append(
                    "Could not remove the older client secret %s (%s); pass keep_key_id: %s on the next run to remove it." % (key_id, err, kept.key_id)
                )
                continue
        changes.record(label(by_id[key_id]), diff_view(by_id[key_id]), None)
        removed.append(key_id)

    if hand_over and kept is not None:
        changes.write(finish_hand_over, graph, application, holder, kept.key_id)

    remaining = [secret for secret in ours if secret.key_id not in removed and secret is not kept]
    remaining += [kept] if kept is not None else []
    result = {
        "key_id": kept.key_id if kept else None,
        "end_date": format_datetime(kept.end) if kept and kept.end else None,
        "hint": kept.hint if kept else None,
        "days_remaining": days_remaining(kept.end, now) if kept and kept.end else None,
        "rotated": plan.rotated,
        "new_key_reason": plan.reason if plan.create else None,
        "removed_key_ids": removed,
        "secrets": [public_view(secret, now) for secret in remaining],
        "msg": absent_message(description, removed, changes.tense) if params["state"] == "absent" else message(plan, kept, removed, changes.tense),
    }
    if value is not None:
        result["value"] = value
    return result, warnings


def _create(graph, application, params, end_date, changes, now, prove, hide):
    """(the new Secret, its value, warnings): in check mode a prediction with placeholders, writing nothing."""
    description = params["description"]
    never_expires = params.get("never_expires")
    policy = read_password_policy(graph, application)
    if policy.additions_blocked:
        raise SecretError(
            "The tenant's app management policy forbids new client secrets on application %s "
            "(passwordAddition restriction); use a certificate credential instead." % application.get("appId")
        )
    wanted = requested_end(now, params["lifetime_days"], end_date, never_expires)
    end, warnings = fit_to_policy(now, wanted, policy, params["clamp_to_policy"], never_expires)
    check_rotation_window(end - now, params["rotate_before_days"])
    predicted = Secret(PLACEHOLDER, description, None, now, end)
    if never_expires and not warnings:
        predicted_warnings = [never_expires_note(end, policy, predicted=True)]
    else:
        predicted_warnings = warnings
    created, value, warnings = changes.live(
        _add_and_prove, graph, application, params, now, end, policy, warnings, prove, hide, dry=(predicted, SECRET_VALUE_PLACEHOLDER, predicted_warnings)
    )
    changes.record(label(created), None, diff_view(created))
    return created, value, warnings


def _add_and_prove(graph, application, params, now, end, policy, warnings, prove, hide):
    """addPassword, then the proof; whatever fails once the secret exists removes it again.
    Returns (the new Secret, its value, `warnings` and what the creation adds to them)."""
    never_expires = params.get("never_expires")
    if prove is not None and graph.get_service_principal(application["appId"]) is None:
        raise SecretError(
            "Application %s has no service principal (enterprise application) in the tenant, and Entra "
            "issues no token to an application without one, so a new secret could not be proven: run "
            "moduscloud.azure_sync.azure_app_consent first (it creates the service principal), or set "
            "wait_usable: false." % application["appId"]
        )
    credential, notes = add_secret(
        graph, application["id"], params["description"], now, end, shorten=params["clamp_to_policy"] or never_expires, policy_known=policy.known
    )
    value = credential.pop("secretText", None)
    if value and hide is not None:
        hide(value)
    warnings = list(warnings)
    try:
        created = secrets_of({"passwordCredentials": [credential]})[0]
        warnings.extend(notes)
        if never_expires and not warnings:
            warnings.append(never_expires_note(created.end, policy))
        # The lifetime was checked against the window before the write; a shortened one may still fall inside it.
        if notes and created.end - now <= timedelta(days=params["rotate_before_days"]):
            warnings.append(
                "The new secret lives %s, not longer than rotate_before_days (%d): the next run will "
                "replace it. Lower rotate_before_days." % (describe_lifetime(created.end - now), params["rotate_before_days"])
            )
        if not value:
            raise SecretError("Graph returned no secret text")
        if prove is not None:
            prove(value)
    except BaseException as err:
        # Whatever stops the run now, the new secret must not stay behind as an orphan whose value nobody holds.
        removed, outcome = _discard(graph, application, credential.get("keyId"))
        if not isinstance(err, Exception):  # interrupted: cleaned up, and the interruption goes on
            raise
        reason = err if isinstance(err, (ApiError, ServiceError)) else "%s: %s" % (type(err).__name__, err)
        raise SecretError("Client secret %s was created but %s; %s" % (credential.get("keyId"), reason, outcome), changed=not removed)
    return created, value, warnings


def _discard(graph, application, key_id):
    """Remove a secret this run created: (whether it is gone, what happened, for the message)."""
    try:
        graph.remove_password(application["id"], key_id)
    except ApiError as err:
        return False, "removing it again failed too (%s): remove it, or run again with force_rotate: true." % err
    return True, "it was removed again, and the secrets in place are untouched."

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: azure_app_secret
short_description: Create, rotate and remove an Entra ID application's client secret
description:
  - Keeps one client secret (the portal's B(Certificates & secrets > Client secrets), KB article 2012
    Azure steps 12 and 13) on an Entra ID (Azure AD) application registration.
  - The secrets this module manages are the ones whose description (Graph C(displayName)) equals
    O(description); secrets with other descriptions are never touched.
  - "A secret's value exists only in the answer to its creation. This module returns it as RV(value)
    in the run that creates the secret, and never again. Register the result with C(no_log: true)
    and hand the value on (for example to M(moduscloud.azure_sync.moduscloud_import_settings)) in the same play."
  - A run creates a new secret only when one is needed - none exists, the one in use expires within
    O(rotate_before_days), O(force_rotate) is set, the module cannot tell which secret is in use
    (see O(keep_key_id)), or O(consumer) says that modusCloud needs a new one - and otherwise reports
    C(changed=false) and returns no value. RV(new_key_reason) says why.
  - The new secret is proven to obtain a token (O(wait_usable)) before it is returned, because Entra
    rejects new secrets for seconds to minutes.
  - Entra ID secrets always expire; tenants can limit their lifetime with an app management policy.
    The module reads that policy when it may (C(Policy.Read.All)) and otherwise learns it from Graph's
    C(CredentialInvalidLifetimeAsPerAppPolicy) refusal.
version_added: 1.0.0
author:
  - moduscloud.azure_sync maintainers (@moduscloud)
options:
  app_id:
    description:
      - Application (client) id of the app registration, for example
        RV(moduscloud.azure_sync.azure_app_registration#module:app_id). It identifies the application first.
      - One of O(app_id), O(unique_name) and O(display_name) is required.
      - The KB article and the portal call it the Application ID, hence the alias.
      - In check mode, the placeholder C(\(known after apply\)) (an application an earlier task would create)
        predicts a new secret.
    type: str
    aliases: [application_id]
  unique_name:
    description:
      - The application's unique name (Graph C(uniqueName)); identifies it when O(app_id) is not given.
    type: str
  display_name:
    description:
      - The application's display name; identifies it when neither O(app_id) nor O(unique_name) is given, and
        must then match exactly one application (if several match, the task fails and lists their app ids).
    type: str
  description:
    description:
      - The secret's description (Graph C(displayName)), the marker of the secrets this module manages.
      - Use one description per consumer of the secret, for example C(modusCloud).
    type: str
    required: true
  state:
    description:
      - V(present) keeps one valid secret with O(description), creating or rotating it when needed.
      - V(absent) removes every secret with O(description), and only those. If the application does not exist,
        there is nothing to remove and the task reports no change.
      - V(absent) refuses, before any write, the application the module itself signs in as.
    type: str
    choices: [present, absent]
    default: present
  lifetime_days:
    description:
      - Lifetime of a new secret, in days, from 1 to 3650. The Entra portal offers at most 730 (24 months).
      - Defaults to 730 when neither O(end_date) nor O(never_expires=true) is set.
      - It applies when a secret is created; an existing secret keeps its end date until it is rotated.
      - Mutually exclusive with O(end_date) and O(never_expires=true).
    type: int
  end_date:
    description:
      - End date of a new secret, as an ISO 8601 date (C(2027-06-30), midnight UTC) or date and time
        (C(2027-06-30T12:00:00Z)).
      - It must lie further ahead than O(rotate_before_days), or the next run would replace the secret.
      - Mutually exclusive with O(lifetime_days) and O(never_expires=true).
    type: str
  never_expires:
    description:
      - Ask for the longest lifetime the tenant allows, which is what the KB's "Never Expires" choice means
        today. Entra secrets always expire.
      - With a tenant lifetime policy, the secret gets the policy's maximum; without one, it ends 99 years
        ahead, as the portal's old "Never" did. A warning says which end date it got and why.
      - Mutually exclusive with O(lifetime_days) and O(end_date). O(clamp_to_policy) does not apply.
    type: bool
    default: false
  rotate_before_days:
    description:
      - Replace the secret in use when it expires within this many days (or has expired).
      - It must be shorter than the lifetime of a new secret.
    type: int
    default: 30
  exclusive:
    description:
      - Once this run has a secret that the caller holds - one it created, or the one named by
        O(keep_key_id) - remove every other secret with O(description) (older ones, and orphans a failed
        run left behind).
      - Removal happens only after a new secret proved usable, so a failure leaves the old secret in place.
      - Set it to V(false) on the task that creates the secret when the old one must stay until its
        consumer has the new value, and remove the old one afterwards with O(keep_key_id) (see the examples).
      - Defaults to V(true); with O(consumer), to V(false) while modusCloud uses this application (the secret it
        holds must keep working until it has the new one) and V(true) otherwise (no secret of this application is
        in use, so orphans of a stopped first run may go at once).
    type: bool
  keep_key_id:
    description:
      - Key id of the secret whose value the caller holds and uses, for example the RV(key_id) that was
        handed to modusCloud.
      - That secret is kept (and rotated when it expires within O(rotate_before_days)); with O(exclusive),
        every other secret with O(description) is removed.
      - If no secret with O(description) has this key id, a new secret is created.
      - In check mode, the placeholder C(\(known after apply\)) (the RV(key_id) of a secret an earlier task
        would create) predicts the removal of every secret with O(description).
      - Only with O(state=present).
    type: str
  force_rotate:
    description:
      - Create a new secret even though a valid one is in place. With O(exclusive), the others are removed
        once it proved usable.
      - Use it when the caller does not hold the value of the secret in place, for example after an earlier
        run stopped between creating a secret and handing its value on (see the notes).
      - Only with O(state=present).
    type: bool
    default: false
  consumer:
    description:
      - What modusCloud, the consumer of the secret, holds, as M(moduscloud.azure_sync.moduscloud_sync_info) reads it
        before the run. The module then decides whether modusCloud needs a new secret, and why (RV(new_key_reason)),
        and whether older secrets may go at once (O(exclusive)).
      - A secret's value exists only in the run that creates it, so modusCloud gets a new secret whenever it does not
        hold a usable key of this application - it is not configured, it uses another application, its key expires
        within O(rotate_before_days) - and, with O(consumer.new_key_with_settings_change), whenever its import
        settings change.
      - The decision is the same in check mode, which predicts the new secret without writing.
      - Only with O(state=present).
    type: dict
    suboptions:
      configured:
        description:
          - Whether modusCloud has Azure AD import settings (RV(moduscloud.azure_sync.moduscloud_sync_info#module:configured)).
        type: bool
        required: true
      app_id:
        description:
          - The application id modusCloud uses (its C(app_id) setting, the KB's B(Application ID)).
        type: str
        aliases: [application_id]
      secret_expiry:
        description:
          - When the key modusCloud holds expires
            (RV(moduscloud.azure_sync.moduscloud_sync_info#module:secret_expiry)), for the message.
        type: str
      secret_days_remaining:
        description:
          - Whole days until that key expires
            (RV(moduscloud.azure_sync.moduscloud_sync_info#module:secret_days_remaining)); unknown (V(null)) counts as
            not expiring.
        type: int
      settings_changes:
        description:
          - The names of the import settings this run changes (empty when none).
        type: list
        elements: str
        default: []
      new_key_with_settings_change:
        description:
          - Give modusCloud a new secret whenever O(consumer.settings_changes) is not empty. Whether modusCloud keeps its
            key through a settings change saved without it is an open question of its API.
        type: bool
        default: true
  validate_only:
    description:
      - Only check the options (as every run does before its first request), then return without reading or writing
        anything; RV(validated) is then V(true) and nothing else about the secret is returned (but, in check mode,
        RV(value_placeholder)).
      - For a preflight that checks every input before a play writes anything, when the application may not exist yet.
    type: bool
    default: false
  wait_usable:
    description:
      - Before returning a new secret, prove that it obtains a token (client credentials for the application
        in the tenant of the connection), retrying with growing delays while Entra still rejects it as
        unknown (AADSTS7000215, AADSTS7000222, AADSTS700016), throttles (HTTP 429, after its C(Retry-After)),
        fails (HTTP 5xx) or does not answer.
      - If it never works within O(wait_timeout), or anything else stops the run once the secret exists, the
        new secret is removed again and the task fails; the secrets in place are untouched.
      - Needs O(tenant_id), or an O(access_token) that names its tenant, and the application's service
        principal (M(moduscloud.azure_sync.azure_app_consent) creates it), because Entra issues no token without
        one. Without it, the task fails before creating anything.
      - The sign-in host is O(authority_host), or the one O(cloud) sets. When O(graph_url) points somewhere other
        than Microsoft Graph (a private endpoint, a test double) and O(cloud) is V(public), set O(authority_host)
        too, even with O(access_token). Otherwise the task fails before creating anything, because the public
        sign-in host issues no token for that Graph.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for a new secret to become usable (O(wait_usable)).
    type: int
    default: 180
  lease_holder:
    description:
      - Serialise hand-overs of this application's secrets between runs. Set it to a name unique to the run
        (the same in its later tasks).
      - Before creating a secret, the module takes a lease on the application (a tag with this name and an
        expiry, written and read back); while another run holds an unexpired lease it waits, at most
        O(wait_timeout) seconds, then fails naming that run.
      - With O(keep_key_id) (the call that finishes a hand-over, once the consumer has the new value), it first
        checks that this run still holds the lease, and afterwards replaces the lease with a record of
        O(keep_key_id) as the secret handed over. A later run that finds the recorded secret gone knows the
        consumer holds a dead key and creates a new one (as with O(force_rotate)).
    type: str
  lease_seconds:
    description:
      - How long a lease taken with O(lease_holder) lasts; a run that stopped without releasing it blocks others
        at most this long. Cover the proof (O(wait_timeout)) and the hand-over to the consumer.
    type: int
    default: 600
  hand_over:
    description:
      - Whether a later task of this run hands a new secret to its consumer and then ends the lease
        (O(keep_key_id)), as the role's settings phase does.
      - V(false) releases the lease of O(lease_holder) as soon as the new secret exists, so that the next run need
        not wait for it to expire (a run that creates a secret and hands it over later, or never).
    type: bool
    default: true
  release_lease:
    description:
      - Only release the lease O(lease_holder) holds (after a failed hand-over) and change nothing else.
    type: bool
    default: false
  clamp_to_policy:
    description:
      - When O(lifetime_days) or O(end_date) asks for more than the tenant's app management policy allows,
        V(true) shortens the lifetime to the policy maximum and warns; V(false) fails before anything is
        written (or, when the policy cannot be read, when Graph refuses the lifetime).
      - When the policy cannot be read and Graph refuses the lifetime, V(true) retries with the usual limits
        (730, 365, 180, 90, 30, 7 and 1 days) and keeps the first one accepted.
    type: bool
    default: true
extends_documentation_fragment:
  - moduscloud.azure_sync.graph
  - moduscloud.azure_sync.attributes
  - moduscloud.azure_sync.attributes.ACTION_GROUP_GRAPH
attributes:
  check_mode:
    support: full
    details: Predicts a creation or rotation (RV(key_id) is then C(\(known after apply\)) and RV(value)
      C(\(new secret value, known after apply\))), its reason (RV(new_key_reason), decided as in a real run)
      and the removals, and writes nothing. It neither takes the hand-over lease nor proves a new secret.
  diff_mode:
    support: full
    details: Shows each secret by key id, description and end date; never a value.
notes:
  - "Which secret is in use: the module keeps an existing secret only if it can tell that the caller holds
    it - the one named by O(keep_key_id), or the only secret with O(description). Several secrets with the
    description and no O(keep_key_id) mean an earlier run stopped between creating a secret and removing the
    old one; nobody can tell which value the consumer has, so a new secret is created (RV(rotated)) and,
    with O(exclusive), the others are removed."
  - "Crash safety: a secret whose value was lost (the run stopped after Graph created it) is an orphan.
    If another secret with the description exists, the next run sees several and rotates as above. If the
    orphan is the only one, nothing shows that its value was lost: whoever does not hold a value (for example
    modusCloud has no key yet, or no record says which key id it got) runs with O(force_rotate=true), or passes
    O(consumer), which then decides the same; a new secret is created and, with O(exclusive), the orphan removed."
  - Lifetimes are measured from the time of the run, which is sent as the secret's start date.
  - Reading the tenant policy (C(GET /policies/defaultAppManagementPolicy)) needs C(Policy.Read.All);
    without it the module relies on Graph refusing a lifetime that is too long. A policy assigned to the
    application itself is only learnt from that refusal.
  - Adding and removing secrets needs C(Application.ReadWrite.All), or C(Application.ReadWrite.OwnedBy) as
    an owner of the application.
seealso:
  - module: moduscloud.azure_sync.azure_app_registration
  - module: moduscloud.azure_sync.azure_app_registration_info
  - module: moduscloud.azure_sync.moduscloud_import_settings
  - name: "Microsoft Graph: application: addPassword"
    description: The call that creates a secret and the only answer that carries its value.
    link: https://learn.microsoft.com/graph/api/application-addpassword
  - name: "Microsoft Graph: app management policies"
    description: How a tenant limits the lifetime of client secrets.
    link: https://learn.microsoft.com/graph/api/resources/tenantappmanagementpolicy
"""

EXAMPLES = r"""
- name: Keep a client secret for modusCloud on the app (creates one on the first run only)
  moduscloud.azure_sync.azure_app_secret:
    app_id: "{{ app.app_id }}"
    description: modusCloud
    tenant_id: "{{ azure_tenant_id }}"
    client_id: "{{ automation_client_id }}"
    client_secret: "{{ automation_client_secret }}"
  register: secret
  no_log: true  # the result carries the value when a secret was created

- name: KB step 13 today - the longest lifetime the tenant allows
  moduscloud.azure_sync.azure_app_secret:
    app_id: "{{ app.app_id }}"
    description: modusCloud
    never_expires: true
  register: secret
  no_log: true

# Rotation with a hand-over: the old secret keeps working until modusCloud has the new one.
# Order: create -> prove usable (wait_usable) -> give to modusCloud -> only then remove the old secret.
# A failure at any step leaves a state that the next run repairs:
#  - stopped before the hand-over: the next run finds two secrets, cannot tell which one modusCloud
#    holds, and rotates again;
#  - stopped after the hand-over: the same - modusCloud then gets yet another new secret.
- name: Read what modusCloud holds
  moduscloud.azure_sync.moduscloud_sync_info:
    org: contoso.example
  register: moduscloud

- name: Create or rotate the secret when modusCloud needs a new one, keeping the one it uses for now
  moduscloud.azure_sync.azure_app_secret:
    app_id: "{{ app.app_id }}"
    description: modusCloud
    # The module decides from this whether modusCloud needs a new key (new_key_reason) and whether the
    # older secrets may go at once (exclusive): not while modusCloud uses one of them.
    consumer:
      configured: "{{ moduscloud.configured }}"
      app_id: "{{ (moduscloud.settings or {}).app_id | default(none) }}"
      secret_expiry: "{{ moduscloud.secret_expiry }}"
      secret_days_remaining: "{{ moduscloud.secret_days_remaining }}"
  register: secret
  no_log: true

- name: Give the new value to modusCloud
  moduscloud.azure_sync.moduscloud_import_settings:
    org: contoso.example
    primary_domain: contoso.example
    app_id: "{{ app.app_id }}"
    key: "{{ secret.value }}"
    update_key: always
  when: secret.value is defined
  no_log: true

- name: Remove every other secret with the description (older ones, orphans of failed runs)
  moduscloud.azure_sync.azure_app_secret:
    app_id: "{{ app.app_id }}"
    description: modusCloud
    keep_key_id: "{{ secret.key_id }}"

- name: Show when the secret expires (ids and dates only)
  ansible.builtin.debug:
    msg: "Secret {{ secret.key_id }} ends {{ secret.end_date }} ({{ secret.days_remaining }} days)"

- name: Remove the modusCloud secrets (other secrets of the app stay)
  moduscloud.azure_sync.azure_app_secret:
    app_id: "{{ app.app_id }}"
    description: modusCloud
    state: absent
"""

RETURN = r"""
value:
  description:
    - The new secret's value. Returned only by the run that created it; Graph never shows it again.
    - "Register the result with C(no_log: true). It never appears in the diff, messages or warnings."
    - In check mode, when a secret would be created, the placeholder C(\(new secret value, known after apply\)). It
      differs from the placeholder of ids, C(\(known after apply\)), because a value handed on as a C(no_log) option
      (such as the O(moduscloud.azure_sync.moduscloud_import_settings#module:key)) is masked wherever it appears in that
      task's output.
  returned: when a secret was created (or would be, in check mode)
  type: str
  sample: (only the run that creates the secret sees it)
app_id:
  description: Application (client) id of the application, for the consumer of the secret.
  returned: always
  type: str
  sample: 4f1c0a7e-3b1d-4c55-9a61-2f7d0c5e8b21
value_held:
  description:
    - Whether RV(value) holds the value of a secret this run created, to hand over to its consumer.
    - V(false) in check mode (RV(value) is then a placeholder) and whenever no secret was created.
  returned: unless O(release_lease=true)
  type: bool
  sample: true
validated:
  description: Whether the options were only checked (O(validate_only=true)); nothing else about the secret is returned then.
  returned: when O(validate_only=true)
  type: bool
  sample: true
value_placeholder:
  description:
    - The placeholder RV(value) has in check mode for a secret a dry run would create, for a later task of the dry
      run that needs a key before the secret exists (pass it as a C(no_log) option, as a key). Only a dry run takes
      it; a real run refuses it.
  returned: when O(validate_only=true), in check mode
  type: str
  sample: (new secret value, known after apply)
key_id:
  description:
    - Key id of the secret in use after the run - the new one, or the one kept.
    - C(\(known after apply\)) in check mode when a secret would be created.
  returned: when a secret with the description remains
  type: str
  sample: 6a0c1ad2-3a47-4f0e-9d57-2e9c38a1f0c4
end_date:
  description: End of that secret's validity (UTC).
  returned: when a secret with the description remains
  type: str
  sample: "2027-06-30T08:15:00Z"
hint:
  description: The first characters of that secret's value, as Graph shows them to tell secrets apart.
  returned: when a secret with the description remains (not in check mode for a new one)
  type: str
  sample: Ab1
days_remaining:
  description: Whole days until that secret expires.
  returned: when a secret with the description remains
  type: int
  sample: 729
new_key_reason:
  description:
    - Why a new secret was (or, in check mode, would be) created, as RV(msg) says it too; V(null) when none was.
    - For example C(no secret carries the description), C(force_rotate is set), C(modusCloud has no Azure AD settings
      yet) or C(the key modusCloud holds expires on 2026-07-01) (see O(consumer)).
  returned: always
  type: str
  sample: modusCloud uses another application (0b5e7a52-6f21-4c1e-8a44-1d9f3e2c7b60)
rotated:
  description: Whether a new secret replaced (or, in check mode, would replace) an existing one with the description.
  returned: always
  type: bool
  sample: false
removed_key_ids:
  description: Key ids of the secrets with the description that were (or would be) removed.
  returned: always
  type: list
  elements: str
  sample: [1f0e9a7c-5b2d-4e61-8c3a-9d4b7e2f6a10]
secrets:
  description: The secrets with the description after the run, oldest first, without values.
  returned: always
  type: list
  elements: dict
  contains:
    key_id:
      description: The secret's key id.
      type: str
    description:
      description: The secret's description.
      type: str
    hint:
      description: The first characters of its value.
      type: str
    start_date:
      description: Start of its validity (UTC).
      type: str
    end_date:
      description: End of its validity (UTC).
      type: str
    days_remaining:
      description: Whole days until it expires (negative once expired).
      type: int
    expired:
      description: Whether it has expired.
      type: bool
msg:
  description:
    - What the run did (or, in check mode, would do), with key ids and dates.
    - With O(state=absent), the secrets with O(description) removed (V(Would remove) in check mode), or that
      there were none.
  returned: always
  type: str
  sample: "Created client secret 6a0c1ad2-3a47-4f0e-9d57-2e9c38a1f0c4 ending 2027-06-30T08:15:00Z (no secret
    carries the description)."
"""

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_module import GraphModule
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_wire import APPLICATION_IDENTITY
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._secret_lease import DEFAULT_LEASE_SECONDS
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._secret_plan import DEFAULT_ROTATE_BEFORE_DAYS
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._secrets import manage_secret


def argument_spec():
    return dict(
        app_id=dict(type="str", aliases=["application_id"]),
        unique_name=dict(type="str"),
        display_name=dict(type="str"),
        description=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        lifetime_days=dict(type="int"),
        end_date=dict(type="str"),
        never_expires=dict(type="bool", default=False),
        rotate_before_days=dict(type="int", default=DEFAULT_ROTATE_BEFORE_DAYS),
        exclusive=dict(type="bool"),
        keep_key_id=dict(type="str", no_log=False),
        force_rotate=dict(type="bool", default=False),
        consumer=dict(
            type="dict",
            options=dict(
                configured=dict(type="bool", required=True),
                app_id=dict(type="str", aliases=["application_id"]),
                secret_expiry=dict(type="str", no_log=False),
                secret_days_remaining=dict(type="int", no_log=False),
                settings_changes=dict(type="list", elements="str", default=[]),
                new_key_with_settings_change=dict(type="bool", default=True, no_log=False),
            ),
        ),
        validate_only=dict(type="bool", default=False),
        wait_usable=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=180),
        clamp_to_policy=dict(type="bool", default=True),
        lease_holder=dict(type="str"),
        lease_seconds=dict(type="int", default=DEFAULT_LEASE_SECONDS),
        hand_over=dict(type="bool", default=True),
        release_lease=dict(type="bool", default=False),
    )


def main():
    module = GraphModule(
        argument_spec(),
        placeholders=("app_id", "keep_key_id"),
        required_one_of=[APPLICATION_IDENTITY],
        required_if=[("release_lease", True, ("lease_holder",))],
    )
    module.run(manage_secret)


if __name__ == "__main__":
    main()

# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""One moduscloud_domain task: an organization's mail domains ensured through _state's ChangeSet, or
checked against the domains the Entra tenant needs (the preflight).

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import ServiceError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_values import (
    is_domain_name,
    missing_domains,
    missing_domains_message,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_wire import (
    normalize_domain,
    org_primary_domain,
)


def is_host(value):
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return is_domain_name(value)


def invalid_input(params):
    """Problems with moduscloud_domain's own options (org is the base's), each naming what is allowed: (option,
    message) pairs."""
    problems = []
    options = tuple(name for name in ("domains", "required_domains") if any(not is_domain_name(value) for value in params[name] or []))
    bad = [name for name in (params["domains"] or []) + (params["required_domains"] or []) if not is_domain_name(name)]
    if bad:
        problems.append((options, "not a domain name (expected something like example.com): %s" % ", ".join(bad)))
    destination = params["destination"]
    if destination is not None and not is_host(destination):
        problems.append(("destination", "destination must be a host name or IP address, got %r" % destination))
    return problems


def run_domains(module):
    """The whole task for a ModusCloudModule with moduscloud_domain's options."""
    module.run(lambda module: preflight(module) if module.params["required_domains"] is not None else ensure_domains(module), invalid_input)


def preflight(module):
    """The org's domains and those of required_domains it lacks; read only (a lack fails with fail_on_missing)."""
    org_domains = module.client.list_domains(module.org)
    missing = missing_domains(module.params["required_domains"], [domain["name"] for domain in org_domains])
    result = {"domains": sorted(org_domains, key=lambda d: d["name"]), "missing": missing}
    if missing and module.params["fail_on_missing"]:
        raise ServiceError(
            missing_domains_message(module.org, missing),
            options=("required_domains",),
            changed=False,
            **result,
        )
    return result


def ensure_domains(module):
    params, client, org = module.params, module.client, module.org
    present = params["state"] == "present"
    names = sorted(set(normalize_domain(name) for name in params["domains"]))
    existing = dict((domain["name"], domain) for domain in client.list_domains(org))
    if not present:
        primary = org_primary_domain(client.get_org(org))
        if primary in names:
            raise ServiceError("%s is the primary domain of organization %s and cannot be removed" % (primary, org))

    managed = dict((field, params[field]) for field in ("is_relay", "destination") if params[field] is not None)
    after = dict(existing)
    for name in names:
        current = existing.get(name)
        if current is not None:
            current = dict((field, current[field]) for field in ["name"] + sorted(managed))
        view = module.changes.ensure(
            name,
            current,
            dict(managed, name=name) if present else None,
            create=lambda domain: add_domain(client, org, domain),
            update=lambda changed, name=name: client.update_domain(org, name, changed),
            delete=lambda name=name: client.delete_domain(org, name),
        )
        if view is None:
            after.pop(name, None)
        else:
            after[name] = dict(existing.get(name) or {}, **view)
    result = {"domains": [after[name] for name in sorted(after)]}
    known = params["known_state"]
    # What the organization holds now, for a later task's known_state; a dry run's predicted domains it does not hold.
    if known is not None and module.changes.holds_real_state:
        result["known_state"] = dict(known, domains=result["domains"])
    return result


def add_domain(client, org, domain):
    client.add_domain(org, domain)
    return domain

"""The emulated modusCloud API's account handlers: /me, /endpoints, organizations,
domains and users (docs/moduscloud-api.md, Endpoints). A mixin of ModusCloudService (service.py), which routes to
these methods by name and holds the state they change.
"""

from __future__ import annotations

import copy

from .wire import (
    DOMAIN_DEFAULTS,
    ORG_FLAG_FIELDS,
    ORG_PATCH_STATUS,
    ORG_TEXT_FIELDS,
    ORG_USER_TYPES,
    USER_BOOL_FIELDS,
    USER_DEFAULTS,
    USER_FIELDS,
    USER_SENDER_LIST_FIELDS,
    USER_TEXT_FIELDS,
    ApiError,
    created_response_body,
    domain_of,
    is_domain_name,
    is_email,
    me_body,
    one_or_many,
    type_name,
)


class AccountsApi:
    def _get_me(self, caller, caller_org, **_):
        return 200, me_body(caller, caller_org)

    def _get_endpoints(self, params, headers, **_):
        """docs/moduscloud-api.md, Connection: {"endpoints": [...]}; items are this service's base URL (scheme + Host header)."""
        if self._org_owning_domain(params["domain"]) is None:
            raise ApiError(404, f"domain {params['domain']} not found", params["domain"])
        return 200, {"endpoints": [f"https://{headers.get('Host')}"]}

    def _get_org(self, org, **_):
        return 200, self._org_body(org)

    def _org_body(self, org):
        """The organization object (docs/moduscloud-api.md, List envelopes and objects)."""
        active = sum(1 for u in org.users.values() if u["is_active"])
        return {
            "name": org.profile["name"],
            "primary_domain": org.primary_domain,
            "eid": org.eid,
            "type": "organization",
            "organization_hierarchy": str(org.eid),
            "is_active": org.profile["is_active"],
            "licensing_package": "business",
            "is_on_trial": False,
            "user_licenses": 100,
            "active_users": active,
            "when_renewal": None,
            "is_beginner_plus": False,
            "is_beginner_plus_enabled": False,
            **{k: org.profile[k] for k in ORG_TEXT_FIELDS if k != "name"},
            "admin_user": [{"primary_email": e} for e in org.credentials if e in org.users],
            "domains": [copy.deepcopy(d) for d in org.domains.values()],
            "outgoing_servers": [],
            "safe_list_senders": [],
            "block_list_senders": [],
            "ldap_url": None,
            "ldap_username": None,
            "ldap_basedn": None,
            "is_smtp_discovery_enabled": org.profile["is_smtp_discovery_enabled"],
            "account_template_id": None,
            "send_welcome_email": org.profile["send_welcome_email"],
            "odin_capabilities": [],
        }

    def _patch_org(self, org, body, **_):
        if not isinstance(body, dict) or not body:
            raise ApiError(400, "body must be a non-empty JSON object", org.primary_domain)
        writable = ORG_TEXT_FIELDS + ORG_FLAG_FIELDS
        for key, value in body.items():
            if key not in writable:
                raise ApiError(400, f"{key} cannot be changed; writable: {', '.join(writable)}", key)
            expected = str if key in ORG_TEXT_FIELDS else bool
            if not isinstance(value, expected):
                raise ApiError(400, f"{key} must be a {expected.__name__}, got {type_name(value)}", key)
        org.profile.update(body)
        return ORG_PATCH_STATUS, None

    def _list_domains(self, org, **_):
        return 200, {"domains": [copy.deepcopy(d) for d in org.domains.values()]}

    def _create_domains(self, org, body, **_):
        items, was_list = one_or_many(body, "domain")
        errors, created, seen = [], [], set()
        for index, item in enumerate(items):
            name = item.get("name") if isinstance(item, dict) else None
            identifier = name if isinstance(name, str) else f"item {index}"
            try:
                domain = self._valid_domain(item, identifier)
                if domain["name"] in seen or self._org_owning_domain(domain["name"]):
                    raise ApiError(409, f"domain {domain['name']} already exists", domain["name"])
                seen.add(domain["name"])
                created.append(domain)
            except ApiError as error:
                errors.extend(error.errors)
        if errors:
            raise ApiError.combined(errors)
        for domain in created:
            org.domains[domain["name"]] = domain
        return 201, created_response_body(copy.deepcopy(created), was_list)

    @staticmethod
    def _valid_domain(item, identifier, name=None):
        """A full domain object from a POST/PUT body; `name` fixes the name on PUT."""
        if not isinstance(item, dict):
            raise ApiError(400, "each domain must be a JSON object", identifier)
        unknown = sorted(set(item) - {"name", *DOMAIN_DEFAULTS})
        if unknown:
            raise ApiError(400, f"unknown field {unknown[0]}; allowed: name, {', '.join(DOMAIN_DEFAULTS)}", identifier)
        if name is None:
            name = item.get("name")
            if not is_domain_name(name):
                raise ApiError(400, f"name must be a domain name such as example.com, got {name!r}", identifier)
        elif "name" in item and str(item["name"]).lower() != name:
            raise ApiError(400, "name cannot be changed; it must match the path", identifier)
        domain = {"name": name.lower(), **copy.deepcopy(DOMAIN_DEFAULTS)}
        for key in ("is_active", "is_relay"):
            if key in item:
                if not isinstance(item[key], bool):
                    raise ApiError(400, f"{key} must be a boolean, got {type_name(item[key])}", identifier)
                domain[key] = item[key]
        if "destination" in item:
            if item["destination"] is not None and not isinstance(item["destination"], str):
                raise ApiError(400, f"destination must be a host name or null, got {type_name(item['destination'])}", identifier)
            domain["destination"] = item["destination"]
        if "failovers" in item:
            if not isinstance(item["failovers"], list) or not all(isinstance(f, str) for f in item["failovers"]):
                raise ApiError(400, "failovers must be a list of host names", identifier)
            domain["failovers"] = list(item["failovers"])
        return domain

    def _org_domain(self, org, name):
        domain = org.domains.get(name.lower())
        if domain is None:
            raise ApiError(404, f"domain {name} not found in organization {org.primary_domain}", name)
        return domain

    def _get_domain(self, org, params, **_):
        return 200, copy.deepcopy(self._org_domain(org, params["name"]))

    def _put_domain(self, org, params, body, **_):
        current = self._org_domain(org, params["name"])
        org.domains[current["name"]] = self._valid_domain(body, current["name"], name=current["name"])
        return 204, None

    def _delete_domain(self, org, params, **_):
        name = self._org_domain(org, params["name"])["name"]
        if name == org.primary_domain:
            raise ApiError(409, "the primary domain cannot be removed", name)
        holders = [u["primary_email"] for u in org.users.values() if any(domain_of(a) == name for a in [u["primary_email"], *u["alias_emails"]])]
        if holders:
            raise ApiError(409, f"domain {name} is still used by {len(holders)} user(s), e.g. {holders[0]}", name)
        del org.domains[name]
        return 204, None

    def _list_users(self, org, **_):
        return 200, {"users": [copy.deepcopy(u) for u in org.users.values()]}

    def _create_users(self, org, body, **_):
        items, was_list = one_or_many(body, "user")
        errors, created, claimed = [], [], set()
        for index, item in enumerate(items):
            email = item.get("primary_email") if isinstance(item, dict) else None
            identifier = email if isinstance(email, str) else f"item {index}"
            try:
                fields = self._valid_user_fields(org, item, identifier)
                user = self._new_user(fields)
                addresses = [user["primary_email"], *user["alias_emails"]]
                taken = [a for a in addresses if a in claimed or org.address_owner(a)]
                if taken:
                    raise ApiError(409, f"address {taken[0]} already exists", identifier)
                claimed.update(addresses)
                created.append(user)
            except ApiError as error:
                errors.extend(error.errors)
        if errors:
            raise ApiError.combined(errors)
        for user in created:
            org.users[user["primary_email"]] = user
        return 201, created_response_body(copy.deepcopy(created), was_list)

    def _new_user(self, fields):
        user = {"primary_email": fields["primary_email"].lower(), "uid": next(self._next_uid)}
        user.update(copy.deepcopy(USER_DEFAULTS))
        user.update({k: v for k, v in fields.items() if k in USER_DEFAULTS})
        return user

    def _valid_user_fields(self, org, item, identifier, current=None):
        """Check a POST item or a PUT body (current = the stored user) and return its fields."""
        if not isinstance(item, dict):
            raise ApiError(400, "each user must be a JSON object", identifier)
        unknown = sorted(set(item) - set(USER_FIELDS))
        if unknown:
            raise ApiError(400, f"unknown field {unknown[0]}; allowed: {', '.join(USER_FIELDS)}", identifier)
        fields = dict(item)
        if current is None:
            if "uid" in fields:
                raise ApiError(400, "uid is assigned by the service", identifier)
            email = fields.get("primary_email")
            if email is None:
                raise ApiError(400, "primary_email is required", identifier)
            if not is_email(email):
                raise ApiError(400, f"primary_email must be an email address, got {email!r}", identifier)
            if domain_of(email.lower()) not in org.domains:
                raise ApiError(
                    400,
                    f"primary_email {email}: domain {domain_of(email.lower())} is not on the organization; its domains: {', '.join(org.domains)}",
                    identifier,
                )
        else:
            # PUT replaces the object, but the key fields are fixed (read-modify-write sends them back).
            for key in ("primary_email", "uid"):
                if key in fields and str(fields[key]).lower() != str(current[key]).lower():
                    raise ApiError(400, f"{key} cannot be changed (stored: {current[key]})", identifier)
        for key in USER_TEXT_FIELDS:
            if key in fields and not isinstance(fields[key], str):
                raise ApiError(400, f"{key} must be a string, got {type_name(fields[key])}", identifier)
        for key in USER_BOOL_FIELDS + ("send_welcome_email",):
            if key in fields and not isinstance(fields[key], bool):
                raise ApiError(400, f"{key} must be a boolean, got {type_name(fields[key])}", identifier)
        if "type" in fields and fields["type"] not in ORG_USER_TYPES:
            raise ApiError(400, f"type {fields['type']!r} is not allowed; allowed: {', '.join(ORG_USER_TYPES)}", identifier)
        if "password" in fields and not isinstance(fields["password"], str):
            raise ApiError(400, "password must be a string", identifier)
        for key in USER_SENDER_LIST_FIELDS:
            value = fields.get(key, [])
            if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
                raise ApiError(400, f"{key} must be a list of strings", identifier)
        if "odin_settings" in fields:
            odin = fields["odin_settings"]
            if not isinstance(odin, dict) or set(odin) - set(USER_DEFAULTS["odin_settings"]) or not all(isinstance(v, bool) for v in odin.values()):
                raise ApiError(400, "odin_settings must be an object with boolean can_impersonate and is_imitable", identifier)
            fields["odin_settings"] = {**USER_DEFAULTS["odin_settings"], **odin}
        if "alias_emails" in fields:
            fields["alias_emails"] = self._valid_aliases(org, fields, current, identifier)
        return fields

    @staticmethod
    def _valid_aliases(org, fields, current, identifier):
        aliases = fields["alias_emails"]
        if not isinstance(aliases, list) or not all(is_email(a) for a in aliases):
            raise ApiError(400, "alias_emails must be a list of email addresses", identifier)
        primary = (current or fields)["primary_email"].lower()
        aliases = list(dict.fromkeys(a.lower() for a in aliases))
        for alias in aliases:
            if alias == primary:
                raise ApiError(400, f"alias_emails must not contain the primary address {alias}", identifier)
            if domain_of(alias) not in org.domains:
                raise ApiError(400, f"alias_emails {alias}: domain {domain_of(alias)} is not on the organization", identifier)
            owner = org.address_owner(alias)
            if owner is not None and owner["primary_email"] != primary:
                raise ApiError(409, f"address {alias} already exists (held by {owner['primary_email']})", identifier)
        return aliases

    def _org_user(self, org, email):
        user = org.users.get(email.lower())
        if user is None:
            raise ApiError(404, f"user {email} not found", email)
        return user

    def _get_user(self, org, params, **_):
        return 200, copy.deepcopy(self._org_user(org, params["email"]))

    def _put_user(self, org, params, body, **_):
        current = self._org_user(org, params["email"])
        fields = self._valid_user_fields(org, body, current["primary_email"], current=current)
        replacement = {"primary_email": current["primary_email"], "uid": current["uid"]}
        replacement.update(copy.deepcopy(USER_DEFAULTS))
        replacement.update({k: v for k, v in fields.items() if k in USER_DEFAULTS})
        org.users[current["primary_email"]] = replacement
        return 204, None

    def _delete_user(self, org, params, **_):
        del org.users[self._org_user(org, params["email"])["primary_email"]]
        return 204, None

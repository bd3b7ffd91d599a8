"""The emulated modusCloud API's Azure AD import settings (with "Clear and reset") and sync exemptions
(docs/moduscloud-api.md has both), answering each open question the way the active variant says. A mixin
of ModusCloudService (service.py), which routes to these methods by name.
"""

from __future__ import annotations

from .variants import EXEMPTIONS_BODY_SHAPES, wire_date
from .wire import (
    AZURE_BOOL_KEYS,
    AZURE_SETTING_KEYS,
    AZURE_SETTINGS_ABSENT_STATUS,
    AZURE_STRING_KEYS,
    EXEMPTIONS_BODY_KEY,
    SECRET_LIFETIME,
    SYNC_ROLES,
    ApiError,
    is_domain_name,
    is_email,
    type_name,
)


class AzureSettingsApi:
    def _azure_settings(self, org):
        if org.azure is None:
            raise ApiError(AZURE_SETTINGS_ABSENT_STATUS, "Azure Active Directory sync is not configured", org.primary_domain)
        return org.azure

    def _get_azure(self, org, **_):
        """GET: the PUT keys except ad_key, plus secret_expiry and last_successful_sync.

        Not configured: 404, 200 with {} or with every key null, or 204 (variant "unconfigured").
        Booleans and dates as the variants "booleans" and "dates" say.
        """
        if org.azure is None:
            absent = self.answer(org, "unconfigured")
            if absent == "404":
                self._azure_settings(org)
            if absent == "204":
                return 204, None
            if absent == "200-empty":
                return 200, {}
            return 200, dict.fromkeys(("primary_domain", "application_id", "secret_expiry", "last_successful_sync") + AZURE_SETTING_KEYS[2:])
        body = self._azure_body(org, self.answer(org, "dates"))
        if self.answer(org, "booleans") != "json":
            body.update({k: "true" if body[k] else "false" for k in AZURE_BOOL_KEYS})
        return 200, body

    def _azure_body(self, org, dates="iso"):
        settings = self._azure_settings(org)
        expiry = org.key_stored_at + SECRET_LIFETIME if org.key_stored_at else None
        return {
            "primary_domain": settings["primary_domain"],
            "application_id": settings["application_id"],
            "secret_expiry": wire_date(expiry, dates, with_time=False),
            "last_successful_sync": wire_date(org.last_successful_sync, dates, with_time=True),
            **{k: settings[k] for k in AZURE_SETTING_KEYS if k not in AZURE_STRING_KEYS},
        }

    def _put_azure(self, org, body, **_):
        """PUT: the full body; ad_key required until one is stored, then optional (= keep)."""
        identifier = org.primary_domain
        if not isinstance(body, dict):
            raise ApiError(400, "body must be a JSON object", identifier)
        unknown = sorted(set(body) - set(AZURE_SETTING_KEYS) - {"ad_key"})
        if unknown:
            raise ApiError(400, f"unknown key {unknown[0]}; allowed: ad_key, {', '.join(AZURE_SETTING_KEYS)}", unknown[0])
        missing = [k for k in AZURE_SETTING_KEYS if k not in body]
        keep_key = self.answer(org, "put-without-key")
        if "ad_key" not in body and (org.ad_key is None or keep_key == "refused"):
            missing.insert(0, "ad_key")
        if missing:
            raise ApiError(400, f"missing key(s): {', '.join(missing)}", missing[0])
        for key in AZURE_STRING_KEYS + ("ad_key",):
            if key in body and (not isinstance(body[key], str) or not body[key].strip()):
                raise ApiError(400, f"{key} must be a non-empty string", key)
        if not is_domain_name(body["primary_domain"]):
            raise ApiError(400, f"primary_domain must be a domain name, got {body['primary_domain']!r}", "primary_domain")
        if body["default_user_role_name"] not in SYNC_ROLES:
            raise ApiError(
                400, f"default_user_role_name must be one of {', '.join(SYNC_ROLES)}, got {body['default_user_role_name']!r}", "default_user_role_name"
            )
        frequency = body["sync_frequency"]
        if isinstance(frequency, bool) or not isinstance(frequency, int) or frequency < 0:
            raise ApiError(400, f"sync_frequency must be a whole number of hours (0 = never), got {frequency!r}", "sync_frequency")
        booleans = self.answer(org, "booleans")
        for key in AZURE_BOOL_KEYS:
            value = body[key]
            if booleans == "strings-only" and value not in ("true", "false"):
                raise ApiError(400, f'{key} must be "true" or "false", got {type_name(value)}', key)
            if booleans == "json" and not isinstance(value, bool):
                raise ApiError(400, f"{key} must be a JSON boolean, got {type_name(value)}", key)
            if booleans == "strings" and not isinstance(value, bool) and value not in ("true", "false"):
                raise ApiError(400, f'{key} must be a boolean or "true"/"false", got {type_name(value)}', key)

        settings = {k: body[k] for k in AZURE_SETTING_KEYS}
        settings.update({k: settings[k] in (True, "true") for k in AZURE_BOOL_KEYS})
        settings["primary_domain"] = settings["primary_domain"].lower()
        new_key = body.get("ad_key")
        key_changed = new_key is not None and new_key != org.ad_key
        if new_key is None and keep_key == "clears" and org.ad_key is not None:
            # The service stores what it was sent: no key. Its next sync cannot sign in.
            org.ad_key = org.key_stored_at = None
            key_changed = True
        if key_changed:
            org.ad_key = new_key
            org.key_stored_at = self._now if new_key is not None else None
        if key_changed or settings != org.azure:
            org.azure = settings
            org.last_sync_attempt = None  # changed settings: the service syncs at the next run
        return 204, None

    def _delete_azure(self, org, **_):
        """DELETE, "Clear and reset": settings, key and sync status go; exemptions and groups stay.

        Nothing configured: 404 where GET answers 404, else 204 (nothing to clear)."""
        if org.azure is None and self.answer(org, "unconfigured") != "404":
            return 204, None
        self._azure_settings(org)
        org.azure = org.ad_key = org.key_stored_at = None
        org.last_successful_sync = org.last_sync_attempt = None
        return 204, None

    def _list_exemptions(self, org, **_):
        return 200, [{"email": e} for e in org.exemptions]

    def _add_exemptions(self, org, body, **_):
        shape = self.answer(org, "exemptions-body")
        value = body.get(EXEMPTIONS_BODY_KEY) if isinstance(body, dict) and set(body) == {EXEMPTIONS_BODY_KEY} else None if isinstance(body, dict) else body
        if shape in ("comma-string", "bare-string"):
            ok = isinstance(value, str) and isinstance(body, dict) == (shape == "comma-string")
            emails = value.split(",") if ok else []
        else:
            ok = isinstance(value, list) and all(isinstance(e, str) for e in value) and isinstance(body, dict) == (shape == "json-list")
            emails = value if ok else []
        if not ok:
            raise ApiError(400, f"body must be {EXEMPTIONS_BODY_SHAPES[shape]}", EXEMPTIONS_BODY_KEY)
        emails = [e.strip().lower() for e in emails if e.strip()]
        if not emails:
            raise ApiError(400, f"{EXEMPTIONS_BODY_KEY} holds no email address", EXEMPTIONS_BODY_KEY)
        invalid = [e for e in emails if not is_email(e)]
        if invalid:
            raise ApiError(400, f"{EXEMPTIONS_BODY_KEY}: not an email address: {invalid[0]}", invalid[0])
        org.exemptions.extend(e for e in dict.fromkeys(emails) if e not in org.exemptions)
        return 204, None

    def _clear_exemptions(self, org, **_):
        org.exemptions.clear()
        return 204, None

    def _delete_exemption(self, org, params, **_):
        email = params["email"].lower()
        if email not in org.exemptions:
            raise ApiError(404, f"exemption {params['email']} not found", params["email"])
        org.exemptions.remove(email)
        return 204, None

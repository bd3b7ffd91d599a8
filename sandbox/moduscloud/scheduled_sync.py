"""The emulated service's clock and scheduled Azure AD sync: it signs in to the sandbox's Entra
endpoint with the stored Application ID and Key, reads Graph like the real service, and applies
sync_rules.py. A mixin of ModusCloudService (service.py), whose state and lock it uses.
"""

from __future__ import annotations

import copy
from datetime import timedelta

import requests

from .sync_rules import Directory, SyncFailure, apply_directory
from .wire import utc_text

# Graph fields the sync reads (docs/sync-rules.md).
GRAPH_USER_FIELDS = (
    "id",
    "userPrincipalName",
    "displayName",
    "givenName",
    "surname",
    "mail",
    "proxyAddresses",
    "accountEnabled",
    "userType",
    "assignedLicenses",
)
GRAPH_GROUP_FIELDS = ("id", "displayName", "mail", "mailEnabled", "securityEnabled", "groupTypes", "proxyAddresses")
GRAPH_USER_TYPE = "#microsoft.graph.user"
HTTP_TIMEOUT_SECONDS = 15


class ScheduledSync:
    def advance_clock(self, hours: float) -> dict:
        """Move the service clock forward and run every due scheduled sync (once per org)."""
        if hours < 0:
            raise ValueError("the clock only moves forward")
        with self._sync_lock:
            with self._lock:
                self._now = (self._now + timedelta(hours=hours)).replace(microsecond=0)
                now = self._now
                due = [
                    (org, dict(org.azure), org.ad_key)
                    for org in self._orgs.values()
                    if org.azure
                    and org.azure["sync_frequency"] > 0
                    and (org.last_sync_attempt is None or now - org.last_sync_attempt >= timedelta(hours=org.azure["sync_frequency"]))
                ]
            syncs = [self._run_sync(org, settings, key, now) for org, settings, key in due]
        return {"now": utc_text(now), "syncs": syncs}

    def _run_sync(self, org, settings, key, now):
        """One scheduled sync: read the directory (no lock held), then check and apply (locked)."""
        record = {
            "org": org.primary_domain,
            "time": utc_text(now),
            "ok": False,
            "error": None,
            "error_code": None,
            "added": 0,
            "updated": 0,
            "removed": 0,
            "groups": {"added": 0, "updated": 0, "removed": 0},
            "skipped": [],
        }
        try:
            if key is None:  # variant put-without-key:clears dropped it
                raise SyncFailure("no_key", "no Azure AD key is stored: save the settings with the Key (ad_key)")
            directory = self._read_directory(settings, key)
            with self._lock:
                if org.azure != settings or org.ad_key != key:
                    raise SyncFailure("settings_changed", "the Azure settings changed during the sync")
                record.update(apply_directory(org, settings, directory, self._new_user))
                org.last_successful_sync = now
            record["ok"] = True
        except SyncFailure as failure:
            record.update(error=failure.message, error_code=failure.code, **failure.details)
        with self._lock:
            if org.azure == settings and org.ad_key == key:  # else a PUT already made the next run due
                org.last_sync_attempt = now
            org.sync_history.append(record)
        return copy.deepcopy(record)

    def _read_directory(self, settings, key):
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE must not override our CA (docs/signing-in.md)
        try:
            token = self._acquire_token(session, settings, key)
            auth = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            domains = self._graph_list(session, auth, "/v1.0/domains")
            users = []
            if settings["sync_active_users"]:
                users = self._graph_list(session, auth, _graph_query("/v1.0/users", GRAPH_USER_FIELDS))
            groups = []
            if settings["sync_security_groups"] or settings["sync_distribution_groups"]:
                groups = self._graph_list(session, auth, _graph_query("/v1.0/groups", GRAPH_GROUP_FIELDS))
                for group in groups:
                    members_path = _graph_query(f"/v1.0/groups/{group['id']}/members", ["id"])
                    members = self._graph_list(session, auth, members_path)
                    # Graph types every directoryObject in a members list, even under $select.
                    group["user_members"] = len({m["id"] for m in members if m.get("@odata.type") == GRAPH_USER_TYPE})
        except OSError as exc:  # requests' errors, and a missing CA bundle
            raise SyncFailure("connection_error", f"could not reach Entra ID / Graph: {type(exc).__name__}: {exc}") from None
        finally:
            session.close()
        verified = [d["id"].lower() for d in domains if d.get("isVerified")]
        return Directory(verified_domains=verified, users=users, groups=groups)

    def _acquire_token(self, session, settings, key):
        """Client credentials against the tenant named by primary_domain (the settings store no tenant id)."""
        response = session.post(
            f"{self._login_url}/{settings['primary_domain']}/oauth2/v2.0/token",
            data={"grant_type": "client_credentials", "client_id": settings["application_id"], "client_secret": key, "scope": f"{self._graph_url}/.default"},
            verify=self._ca_bundle,
            timeout=HTTP_TIMEOUT_SECONDS,
        )
        payload = _json_or_empty(response)
        if response.status_code == 200 and payload.get("access_token"):
            return payload["access_token"]
        codes = payload.get("error_codes") or []
        code = f"AADSTS{codes[0]}" if codes else payload.get("error") or f"HTTP {response.status_code}"
        description = (payload.get("error_description") or "").splitlines()
        message = description[0] if description else f"token request failed with HTTP {response.status_code}"
        if not message.startswith(code):
            message = f"{code}: {message}"
        raise SyncFailure(code, message)

    def _graph_list(self, session, auth, path):
        """Every item of a Graph collection, following @odata.nextLink."""
        url, items = f"{self._graph_url}{path}", []
        while url:
            response = session.get(url, headers=auth, verify=self._ca_bundle, timeout=HTTP_TIMEOUT_SECONDS)
            payload = _json_or_empty(response)
            if response.status_code != 200:
                error = payload.get("error") if isinstance(payload.get("error"), dict) else {}
                code = error.get("code") or f"HTTP {response.status_code}"
                raise SyncFailure(code, f"{code}: {error.get('message') or 'Graph request failed'} (HTTP {response.status_code}, {path.split('?')[0]})")
            items.extend(payload.get("value", []))
            url = payload.get("@odata.nextLink")
        return items


def _graph_query(path, fields):
    """A Graph list path selecting `fields`, in pages as large as Graph allows."""
    return f"{path}?$select={','.join(fields)}&$top=999"


def _json_or_empty(response):
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}

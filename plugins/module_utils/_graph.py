# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""GraphClient: Microsoft Graph v1.0 with one access token, and the applications and service principals
it manages; permission names, consent and directory reads come from the _graph_* files it is made of.

Private to this collection: no compatibility promise outside it.

Modules never talk HTTP themselves: they call GraphClient methods. Errors (_errors.py) are ApiError (an HTTP call
failed) or GraphError (a ServiceError: anything else worth telling the user about Graph,
such as an ambiguous name).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
from typing import Callable, List, Optional, Sequence, Tuple
from urllib.parse import quote

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._auth_access_token import token_client_id
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import ApiError, GraphError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_consent import AdminConsent
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_consistency import (
    VISIBILITY_WAITS,
    application_not_yet_consistent,
    backing_application_not_yet_visible,
    object_not_yet_visible,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_directory import DirectoryReads
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_permissions import PermissionCatalogue
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_wire import APPLICATION_FIELDS, application_view, odata_literal
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._http import HttpClient
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._transport import Transport


class GraphClient(PermissionCatalogue, AdminConsent, DirectoryReads):
    """Microsoft Graph v1.0 with one access token: the resources this collection manages."""

    def __init__(
        self,
        access_token: str,
        graph_url: str,
        ca_path: Optional[str] = None,
        validate_certs: bool = True,
        sleep: Optional[Callable[[float], None]] = None,
        transport: Optional[Transport] = None,
    ) -> None:
        self.graph_url = graph_url.rstrip("/")
        self._sleep = sleep or time.sleep
        # The application (client) id this client signs in as, when the token says (token_client_id).
        self.signed_in_app_id = token_client_id(access_token)
        self.http = HttpClient(
            self.graph_url + "/v1.0",
            headers={"Authorization": "Bearer " + access_token},
            ca_path=ca_path,
            validate_certs=validate_certs,
            sleep=self._sleep,
            transport=transport,
        )
        self._apis = {}

    # Applications

    def find_application(self, app_id: Optional[str] = None, unique_name: Optional[str] = None, display_name: Optional[str] = None) -> Optional[dict]:
        """The one application identified by app_id, else unique_name, else display_name; None if none.

        Display names are not unique in Entra: several matches fail, listing their app ids.
        """
        if app_id:
            return self._first("/applications", "find application", "with app_id %s" % app_id, "appId eq %s" % odata_literal(app_id))
        if unique_name:
            return self.get_application_by_unique_name(unique_name)
        if display_name:
            matches = self.list_applications(display_name=display_name)
            if len(matches) > 1:
                raise GraphError(
                    "%d applications are named %r (app ids: %s); set app_id or unique_name to choose one"
                    % (len(matches), display_name, ", ".join(sorted(app["appId"] for app in matches))),
                    app_ids=sorted(app["appId"] for app in matches),
                )
            return matches[0] if matches else None
        raise GraphError(
            "one of app_id, unique_name or display_name is required to identify the application", options=("app_id", "unique_name", "display_name")
        )

    def wait_for_application(self, **identity) -> Optional[dict]:
        """find_application for an app that should exist (created by an earlier task): Graph may not
        show it for a few seconds, so look again before answering None."""
        for wait in VISIBILITY_WAITS + (None,):
            found = self.find_application(**identity)
            if found is not None or wait is None:
                return found
            self._sleep(wait)

    def get_application_by_unique_name(self, unique_name: str) -> Optional[dict]:
        path = "/applications(uniqueName=%s)" % quote(odata_literal(unique_name), safe="'")
        try:
            return self.http.json("GET", path, "read application", "with unique_name %r" % unique_name)
        except ApiError as err:
            if err.status == 404:
                return None
            raise

    def list_applications(self, display_name: Optional[str] = None) -> List[dict]:
        """Every application (paged), or those with exactly this display name."""
        params = {"$select": APPLICATION_FIELDS}
        resource = None
        if display_name is not None:
            params["$filter"] = "displayName eq %s" % odata_literal(display_name)
            resource = "named %r" % display_name
        return list(self.http.paged("/applications", "list applications", resource, params=params))

    def create_application(self, body: dict) -> dict:
        return self.http.json("POST", "/applications", "create application", repr(body.get("displayName")), json=body, expected=(201,))

    def upsert_application(self, unique_name: str, body: dict) -> dict:
        """Create the application with this uniqueName, or update it if it exists (idempotent to repeat)."""
        path = "/applications(uniqueName=%s)" % quote(odata_literal(unique_name), safe="'")
        resource = "with unique_name %r" % unique_name
        response = self.http.request(
            "PATCH", path, "create or update application", resource, json=body, headers={"Prefer": "create-if-missing"}, expected=(200, 201, 204)
        )
        if response.status_code == 204 or not response.content:
            # It already existed and Graph answers without a body: read it back for its ids.
            return self.http.json("GET", path, "read application", resource, retry_when=object_not_yet_visible)
        return response.json()

    def update_application(self, object_id: str, body: dict) -> None:
        self.http.request(
            "PATCH", "/applications/%s" % object_id, "update application", object_id, json=body, expected=(204, 200), retry_when=application_not_yet_consistent
        )

    def delete_application(self, object_id: str) -> None:
        self.http.request("DELETE", "/applications/%s" % object_id, "delete application", object_id, expected=(204,), retry_when=object_not_yet_visible)

    def add_password(self, object_id: str, password_credential: dict) -> dict:
        """addPassword: the response is the only place Graph ever shows the secret text."""
        return self.http.json(
            "POST",
            "/applications/%s/addPassword" % object_id,
            "add client secret to application",
            object_id,
            json={"passwordCredential": password_credential},
            expected=(200, 201),
            retry_when=object_not_yet_visible,
        )

    def remove_password(self, object_id: str, key_id: str) -> None:
        self.http.request(
            "POST",
            "/applications/%s/removePassword" % object_id,
            "remove client secret %s from application" % key_id,
            object_id,
            json={"keyId": key_id},
            expected=(200, 204),
        )

    def get_default_app_management_policy(self) -> Optional[dict]:
        """The tenant default app management policy (lifetime limits of new credentials); needs Policy.Read.All."""
        return self.http.json("GET", "/policies/defaultAppManagementPolicy", "read", "the tenant default app management policy")

    # Service principals

    def get_service_principal(self, app_id: str) -> Optional[dict]:
        """The service principal (enterprise application) of an app id in this tenant, or None."""
        return self._first("/servicePrincipals", "find service principal", "for app_id %s" % app_id, "appId eq %s" % odata_literal(app_id))

    def create_service_principal(self, app_id: str) -> Optional[dict]:
        """Create the app's service principal; adopt it if another writer got there first."""
        try:
            return self.http.json(
                "POST",
                "/servicePrincipals",
                "create service principal",
                "for app_id %s" % app_id,
                json={"appId": app_id},
                expected=(201,),
                retry_when=backing_application_not_yet_visible,
            )
        except ApiError as err:
            if err.status != 409:
                raise
        for wait in VISIBILITY_WAITS + (None,):
            found = self.get_service_principal(app_id)
            if found is not None or wait is None:
                return found
            self._sleep(wait)

    def delete_service_principal(self, object_id: str) -> None:
        self.http.request("DELETE", "/servicePrincipals/%s" % object_id, "delete service principal", object_id, expected=(204,))

    def describe_application(self, application: dict, permissions: bool = True) -> dict:
        """An application's identity and the fields this collection manages, by option name (without
        api_permissions unless `permissions`: naming them reads the service principal of each API)."""
        info = application_view(application)
        if permissions:
            info["api_permissions"] = self.permission_view(self.requested_permissions(application))
        return info

    def batch_get(self, urls: Sequence[str], operation: str) -> List[Tuple[Optional[int], dict, object]]:
        """GET each of `urls` (relative to /v1.0, at most BATCH_LIMIT) in one JSON batch; the answers in the same
        order, each (status, headers with lower-case names, body). The batch itself is retried like any request;
        its inner answers are the caller's to judge (a 429 inside a 200 batch is normal)."""
        requests_ = [{"id": str(index), "method": "GET", "url": url} for index, url in enumerate(urls)]
        # A batch of reads may be repeated, so a gateway timeout is retried as for a GET.
        page = self.http.json("POST", "/$batch", operation, json={"requests": requests_}, retry_when=lambda response: response.status_code in (502, 504)) or {}
        answers = dict((str(answer.get("id")), answer) for answer in page.get("responses") or () if isinstance(answer, dict))
        result = []
        for index in range(len(urls)):
            answer = answers.get(str(index))
            if answer is None:
                raise ApiError(operation, message="the batch answer has no response for request %d" % index)
            headers = dict((str(name).lower(), value) for name, value in (answer.get("headers") or {}).items())
            result.append((answer.get("status"), headers, answer.get("body")))
        return result

    def relative(self, link: str) -> str:
        """A nextLink Graph gave (absolute) as the relative URL a batch request takes."""
        root = self.http.base_url + "/"
        if link.startswith(root):
            return "/" + link[len(root) :]
        path = link.split("://", 1)[-1]
        path = path[path.find("/") :] if "/" in path else "/"
        return path[len("/v1.0") :] if path.startswith("/v1.0/") else path

    def _first(self, path: str, operation: str, resource: str, odata_filter: str, select: Optional[str] = None) -> Optional[dict]:
        params = {"$filter": odata_filter}
        if select:
            params["$select"] = select
        page = self.http.json("GET", path, operation, resource, params=params) or {}
        values = page.get("value") or []
        return values[0] if values else None

# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Sign-in method access_token: a Microsoft Graph token obtained elsewhere (the graph_token lookup,
a pipeline), used as given; and what a token's claims say about who signed in, and where.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._auth_base import AuthMethod


class AccessTokenAuth(AuthMethod):
    NAME = "access_token"
    DESCRIPTION = "access_token"

    @classmethod
    def available(cls, options):
        if not options.get("access_token"):
            return "no access_token"
        return None

    def problems(self):
        token = self.options.get("access_token")
        if not token or not token.strip():
            return ["auth=access_token needs access_token (a Microsoft Graph token, for example from the moduscloud.azure_sync.graph_token lookup)"]
        return []

    def token(self):
        return self.options["access_token"].strip()


def token_claims(access_token):
    """The claims of a JWT access token (a dict, empty when it is not a JWT), read without checking the
    signature: they only tell who this run is and in which tenant, they grant nothing."""
    try:
        payload = str(access_token).split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode("utf-8"))
    except (IndexError, ValueError, TypeError):  # binascii.Error and UnicodeDecodeError are ValueErrors
        return {}
    return claims if isinstance(claims, dict) else {}


def token_client_id(access_token):
    """The client (application) id an access token was issued to: its `appid` claim (v1 tokens) or `azp`
    (v2); None when the token does not say."""
    claims = token_claims(access_token)
    client_id = claims.get("appid") or claims.get("azp")
    return client_id if isinstance(client_id, str) and client_id else None


def token_tenant(access_token):
    """The tenant id (`tid` claim) of an access token, or None."""
    return token_claims(access_token).get("tid")

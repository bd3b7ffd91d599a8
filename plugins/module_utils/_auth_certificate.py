# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Sign-in method certificate: an application signs in with a certificate (a PEM file holding its
private key and certificate), sending a signed assertion instead of a secret.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._auth_base import AuthMethod
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import GraphError

PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.S)


def load_certificate_credential(path):
    """msal's client_credential for a PEM file holding the private key and its certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("ascii", "replace")
    except (IOError, OSError) as exc:
        raise GraphError("client_certificate_path %s cannot be read: %s" % (path, exc.strerror or exc), options=("client_certificate_path",))
    blocks = dict((match.group(1), match.group(0)) for match in PEM_BLOCK.finditer(text))
    key_pem = next((pem for kind, pem in blocks.items() if kind.endswith("PRIVATE KEY")), None)
    cert_pem = blocks.get("CERTIFICATE")
    if key_pem is None or cert_pem is None:
        raise GraphError(
            "client_certificate_path %s must be a PEM file holding both the private key and the "
            "certificate (found: %s)" % (path, ", ".join(sorted(blocks)) or "no PEM blocks"),
            options=("client_certificate_path",),
        )
    try:
        serialization.load_pem_private_key(key_pem.encode("ascii"), password=None)
        certificate = x509.load_pem_x509_certificate(cert_pem.encode("ascii"))
    except (TypeError, ValueError) as exc:
        raise GraphError(
            "client_certificate_path %s: the key or certificate cannot be loaded (an encrypted private key is not supported): %s" % (path, exc),
            options=("client_certificate_path",),
        )
    thumbprint = hashlib.sha1(certificate.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    return {"private_key": key_pem, "thumbprint": thumbprint}


class CertificateAuth(AuthMethod):
    NAME = "certificate"
    DESCRIPTION = "tenant_id, client_id and client_certificate_path"
    REQUIRED = (
        ("tenant_id", ("AZURE_TENANT_ID", "AZURE_TENANT")),
        ("client_id", ("AZURE_CLIENT_ID",)),
        ("client_certificate_path", ("AZURE_CLIENT_CERTIFICATE_PATH",)),
    )

    @classmethod
    def available(cls, options):
        if not options.get("client_certificate_path"):
            return "no client_certificate_path (AZURE_CLIENT_CERTIFICATE_PATH)"
        return None

    def token(self):
        return self.signed_in_as_application(load_certificate_credential(self.options["client_certificate_path"]))

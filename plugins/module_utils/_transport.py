# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""How the collection reaches a service: TLS trust, proxies and timeouts, decided once per connection.

Private to this collection: no compatibility promise outside it.

Every request (sign-in, Graph, modusCloud) is sent with `verify=`, `proxies=` and `timeout=` given
explicitly, because requests lets REQUESTS_CA_BUNDLE replace a session's `verify` for any request
that does not pass its own (requests issue 3829). The precedence users expect:

- TLS trust: `ca_path` (explicit) > REQUESTS_CA_BUNDLE > SSL_CERT_FILE > CURL_CA_BUNDLE (which
  requests honours too) > the CA store of requests (certifi); `validate_certs: false` turns verification off, and only then.
- Proxies: `proxy_url` (explicit, for every request) > HTTPS_PROXY / HTTP_PROXY with NO_PROXY.

An environment variable that is set but empty counts as unset (AWX injects unused keys as "").
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
from urllib.parse import urlsplit

from ansible.module_utils.basic import AnsibleFallbackNotFound

try:
    import requests
    import requests.utils
except ImportError:  # reported by the module through missing_required_lib
    requests = None

DEFAULT_TIMEOUT = 30
# The CA bundle variables, in the order they are honoured when ca_path is not given.
CA_BUNDLE_ENV = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE")
USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


def env_value(*names, **kwargs):
    """The first of the environment variables `names` that is set and not empty (None if none is)."""
    environ = kwargs.get("environ")
    environ = os.environ if environ is None else environ
    for name in names:
        value = environ.get(name)
        if value is not None and value.strip():
            return value
    return None


def env_fallback(*names):
    """Ansible's env_fallback for an argument spec, except that a variable set to "" counts as unset (AWX
    injects every key of a credential type, the unused ones empty)."""
    value = env_value(*names)
    if value is None:
        raise AnsibleFallbackNotFound
    return value


def redact_url(url):
    """A URL without the user name and password it may carry (a proxy's)."""
    return USERINFO.sub("********@", url) if url else url


class Transport(object):
    """TLS trust, proxies and timeout of one connection; `verify` and `proxies(url)` go on every request."""

    def __init__(self, ca_path=None, validate_certs=True, proxy_url=None, timeout=DEFAULT_TIMEOUT, environ=None):
        self.ca_path = ca_path or None
        self.validate_certs = validate_certs is not False
        self.proxy_url = proxy_url or None
        self.timeout = timeout or DEFAULT_TIMEOUT
        self._environ = environ
        self.ca_source = None  # which setting decided the trust: "ca_path", an env name, or None (default store)
        if not self.validate_certs:
            self.verify = False
        elif self.ca_path:
            self.verify, self.ca_source = self.ca_path, "ca_path"
        else:
            self.verify = True
            for name in CA_BUNDLE_ENV:
                value = env_value(name, environ=self._env())
                if value:
                    self.verify, self.ca_source = value, name
                    break

    def _env(self):
        return os.environ if self._environ is None else self._environ

    def problems(self):
        """What makes this transport unusable, found before any request (requests only finds a missing CA file
        inside its TLS layer, with an error that names no option): (option, message) pairs."""
        found = []
        if self.validate_certs and self.ca_source and not os.access(self.verify, os.R_OK):
            if self.ca_source == "ca_path":
                found.append(
                    (
                        "ca_path",
                        "ca_path %s does not exist (or is not readable): give the CA bundle file (PEM) that "
                        "signed the service's certificate, or leave ca_path unset to trust the system's "
                        "certificate authorities" % self.verify,
                    )
                )
            else:
                found.append(
                    (
                        "ca_path",
                        "the CA bundle %s named by the environment variable %s does not exist (or is not "
                        "readable): fix or unset %s, or set ca_path" % (self.verify, self.ca_source, self.ca_source),
                    )
                )
        if self.proxy_url:
            parts = urlsplit(self.proxy_url)
            if parts.scheme not in ("http", "https", "socks5", "socks5h") or not parts.hostname:
                found.append(("proxy_url", "proxy_url must be a URL such as http://proxy.example.com:3128, got %s" % redact_url(self.proxy_url)))
        return found

    def proxies(self, url, direct=False):
        """The proxies for one request to `url`: proxy_url for every request, else the environment's
        (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY), except for hosts NO_PROXY names; `direct`: none.

        Schemes without a proxy are named with None, so that requests adds none of its own from the
        environment (it would for a scheme left out).
        """
        chosen = dict.fromkeys(("http", "https", "all"))
        if direct:
            return chosen
        if self.proxy_url:
            chosen.update(http=self.proxy_url, https=self.proxy_url)
            return chosen
        chosen.update((scheme, value) for scheme, value in requests.utils.get_environ_proxies(url).items() if value and scheme in chosen)
        return chosen

    def session(self):
        """A requests session for this transport. The environment stays trusted (trust_env) for what
        requests does not let a caller set, but verify and proxies are still passed on every request."""
        session = requests.Session()
        session.verify = self.verify
        return session

    def request_options(self, url, direct=False, **kwargs):
        """kwargs for session.request(): verify and proxies, and the timeout unless given."""
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        kwargs["verify"] = self.verify
        kwargs["proxies"] = self.proxies(url, direct)
        return kwargs

    def redact(self, text):
        """An error text without the proxy's credentials."""
        if not text:
            return text
        if self.proxy_url and self.proxy_url in text:
            text = text.replace(self.proxy_url, redact_url(self.proxy_url))
        return USERINFO.sub("********@", text)

    def describe(self):
        """How this transport reaches services, for error messages (never a credential)."""
        trust = (
            "TLS verification off"
            if not self.validate_certs
            else "trusting %s (%s)" % (self.verify, self.ca_source)
            if self.ca_source
            else "trusting the default CA store"
        )
        proxy = "through proxy %s (proxy_url)" % redact_url(self.proxy_url) if self.proxy_url else "with the environment's proxy settings"
        return "%s, %s" % (trust, proxy)

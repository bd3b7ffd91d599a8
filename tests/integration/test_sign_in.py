"""Signing in and reaching the services as real controllers do, against the sandbox.

- Every sign-in method, through a module and through the graph_token lookup, in one playbook run: the
  controller has the managed identity endpoint in its environment and the az stand-in on its PATH, as an
  Azure VM with the CLI would; each task names its method and gives only that method's options.
- A run of the main playbook through a real forwarding proxy (proxy.py): the sandbox saw every request come
  from the proxy; with NO_PROXY naming the sandbox, none did; proxy_url wins over NO_PROXY.
- TLS trust: REQUESTS_CA_BUNDLE alone is honoured, ca_path wins over it, a wrong CA fails with a clear TLS
  error.
- No secret in any output, including a proxy failure and a refused sign-in.
"""

import base64
import json
import os
import sys

import pytest

from forwarding_proxy import PROXY_PEER, ForwardingProxy
from playbook_harness import COLLECTIONS, run_playbook, write_local_playbook
from test_role import assert_converged, assert_no_secret, failure_text, org_state, user_addresses
from test_awx_credentials import PLAYBOOK, UNRELATED

if COLLECTIONS not in sys.path:  # the lookup's own code, called in this process for the controller-side cases
    sys.path.insert(0, COLLECTIONS)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._connection import (  # noqa: E402
    GraphConnection,
    TokenError,
)

CLEAN = dict.fromkeys(UNRELATED + ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"), "")


def write_playbook(tmp_path, tasks, name="play.yml"):
    """A play without connection defaults: each test names the sign-in it tests."""
    return write_local_playbook(tmp_path / name, None, tasks, name="Sign in")


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# ------------------------------------------------------------------------------- every sign-in method


def method_options(info):
    """Each method's options, and nothing else: what each sign-in is, for the lookup and for a module."""
    where = {"authority_host": info["authority_host"], "graph_url": info["graph_url"], "ca_path": info["ca_bundle"]}
    return {
        "client_secret": dict(where, tenant_id=info["tenant_id"], client_id=info["admin_client_id"], client_secret=info["admin_client_secret"]),
        "certificate": dict(where, tenant_id=info["tenant_domain"], client_id=info["admin_client_id"], client_certificate_path=info["admin_certificate_path"]),
        "workload_identity": dict(where, tenant_id=info["tenant_id"], client_id=info["federated_client_id"], federated_token_file=info["federated_token_file"]),
        "managed_identity": dict(where, client_id=info["managed_identity_client_id"]),
        "azure_cli": dict(where, tenant_id=info["tenant_id"]),
    }


def test_every_sign_in_method_works_through_a_module_and_through_the_lookup(fresh_sandbox, tmp_path):
    info = fresh_sandbox.info
    expected_app = {
        "client_secret": info["admin_client_id"],
        "certificate": info["admin_client_id"],
        "workload_identity": info["federated_client_id"],
        "managed_identity": info["managed_identity_client_id"],
        "azure_cli": info["admin_client_id"],
        "device_code": info["public_client_id"],
    }
    tasks = []
    for method, options in method_options(info).items():
        lookup_args = ", ".join("%s=%s" % (name, json.dumps(value)) for name, value in options.items())
        tasks += [
            {
                "name": "%s: a token from the lookup" % method,
                "no_log": True,
                "ansible.builtin.set_fact": {"token_%s" % method: "{{ lookup('moduscloud.azure_sync.graph_token', auth='%s', %s) }}" % (method, lookup_args)},
            },
            {
                "name": "%s: a module signs in by itself" % method,
                "moduscloud.azure_sync.azure_app_registration_info": dict(options, auth=method, app_id=info["admin_client_id"], include_consent=False),
                "register": "module_%s" % method,
            },
            {
                "name": "%s: the module found the app" % method,
                "ansible.builtin.assert": {"that": ["module_%s.applications | map(attribute='app_id') | list == ['%s']" % (method, info["admin_client_id"])]},
            },
        ]
    tasks.append(
        {
            "name": "device_code: a person signs in with a code (the sandbox approves it)",
            "no_log": True,
            "ansible.builtin.set_fact": {
                "token_device_code": (
                    "{{ lookup('moduscloud.azure_sync.graph_token', device_code=true, tenant_id=%s, client_id=%s, "
                    "authority_host=%s, graph_url=%s, ca_path=%s) }}"
                    % tuple(json.dumps(info[name]) for name in ("tenant_id", "public_client_id", "authority_host", "graph_url", "ca_bundle"))
                )
            },
        }
    )
    tasks.append(
        {
            "name": "Keep who each token is for (the token itself is a secret)",
            "ansible.builtin.copy": {
                "dest": str(tmp_path / "appids.json"),
                "content": "{{ %s | to_json }}"
                % (
                    "{%s}"
                    % ", ".join(
                        "'%s': (token_%s.split('.')[1] | replace('-', '+') | replace('_', '/') ~ '==') | b64decode | from_json" % (method, method)
                        for method in expected_app
                    )
                ),
            },
        }
    )
    env = dict(CLEAN, **info["managed_identity_env"])
    env["PATH"] = info["az_path"] + os.pathsep + os.environ["PATH"]
    run = run_playbook(write_playbook(tmp_path, tasks), tmp_path, env=env, verbosity=3)
    assert run.returncode == 0, failure_text(run)
    assert_no_secret(run.output, info["admin_client_secret"])
    tokens = json.loads((tmp_path / "appids.json").read_text())
    assert dict((method, token["appid"]) for method, token in tokens.items()) == expected_app
    assert tokens["device_code"]["idtyp"] == "user" and tokens["managed_identity"]["idtyp"] == "app"
    # The lookup and the module each asked the managed identity endpoint, not the token endpoint.
    identity_calls = [entry for entry in fresh_sandbox.control("GET", "/journal?service=login")["entries"] if entry["path"] == "/msi/token"]
    assert len(identity_calls) == 2


def test_auto_lists_what_it_tried_and_azure_cli_says_how_to_sign_in(fresh_sandbox, tmp_path):
    info = fresh_sandbox.info
    signed_out = tmp_path / "az-signed-out"
    signed_out.mkdir()
    stand_in = signed_out / "az"
    stand_in.write_text("#!/bin/sh\necho \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1\n")
    stand_in.chmod(0o700)
    where = {"authority_host": info["authority_host"], "graph_url": info["graph_url"], "ca_path": info["ca_bundle"]}
    tasks = [
        {
            "name": "Nothing to sign in with",
            "moduscloud.azure_sync.azure_app_registration_info": dict(where, app_id=info["admin_client_id"]),
            "register": "nothing",
            "ignore_errors": True,
            "environment": {"PATH": "/nonexistent"},
        },
        {
            "name": "az is not signed in",
            "moduscloud.azure_sync.azure_app_registration_info": dict(where, auth="azure_cli", app_id=info["admin_client_id"]),
            "register": "signed_out",
            "ignore_errors": True,
        },
        {
            "name": "Both say why",
            "ansible.builtin.assert": {
                "that": [
                    "nothing is failed",
                    "'auth=auto tried' in nothing.msg",
                    "'managed_identity: no IDENTITY_ENDPOINT' in nothing.msg",
                    "'client_secret: no client_secret (AZURE_CLIENT_SECRET, AZURE_SECRET)' in nothing.msg",
                    "signed_out is failed",
                    "'az login' in signed_out.msg",
                ]
            },
        },
    ]
    env = dict(CLEAN, PATH=str(signed_out) + os.pathsep + os.environ["PATH"])
    run = run_playbook(write_playbook(tmp_path, tasks), tmp_path, env=env)
    assert run.returncode == 0, failure_text(run)
    assert fresh_sandbox.stats()["requests"] == 0


# ------------------------------------------------------------------------------------------- proxies


def proxy_env(url="", no_proxy=""):
    """Both spellings: for Python an empty lower-case variable cancels the upper-case one."""
    return {"HTTPS_PROXY": url, "https_proxy": url, "NO_PROXY": no_proxy, "no_proxy": no_proxy}


def _peers(sandbox, since):
    found = {}
    for entry in sandbox.control("GET", "/journal?since=%d" % since)["entries"]:
        found.setdefault(entry["service"], set()).add(entry["peer"])
    return found


def last_seq(sandbox):
    entries = sandbox.control("GET", "/journal")["entries"]
    return entries[-1]["seq"] if entries else 0


def test_the_main_playbook_runs_through_a_forwarding_proxy_and_no_proxy_bypasses_it(sandbox, tmp_path):
    info = sandbox.control("POST", "/tenants", json={"name": "proxied"})
    users_before = user_addresses(org_state(sandbox, info))
    job_vars = {
        "azure_user_sync_org": info["moduscloud_org"],
        "azure_user_sync_authority_host": info["authority_host"],
        "azure_user_sync_graph_url": info["graph_url"],
        "azure_user_sync_ca_path": info["ca_bundle"],
        "azure_user_sync_moduscloud_api_url": info["moduscloud_url"],
    }
    credentials = dict(
        CLEAN,
        AZURE_TENANT_ID=info["tenant_id"],
        AZURE_CLIENT_ID=info["admin_client_id"],
        AZURE_CLIENT_SECRET=info["admin_client_secret"],
        MODUSCLOUD_USERNAME=info["moduscloud_user"],
        MODUSCLOUD_PASSWORD=info["moduscloud_password"],
    )
    with ForwardingProxy(tmp_path) as proxy:
        since = last_seq(sandbox)
        run = run_playbook(PLAYBOOK, tmp_path, extra_vars=job_vars, env=dict(credentials, **proxy_env(proxy.url)))
        assert run.returncode == 0, failure_text(run)
        assert_no_secret(run.output, info["admin_client_secret"], info["moduscloud_password"])
        seen = _peers(sandbox, since)
        # Sign-in, Graph and modusCloud: every request came from the proxy.
        assert seen == {"login": {PROXY_PEER}, "graph": {PROXY_PEER}, "moduscloud": {PROXY_PEER}}, seen
        assert proxy.tunnels(), "the proxy logged no tunnel"
        assert_converged(sandbox, info, users_before=users_before)

        # NO_PROXY names the sandbox: straight there, the proxy sees nothing.
        tunnels = len(proxy.tunnels())
        since = last_seq(sandbox)
        run = run_playbook(PLAYBOOK, tmp_path, extra_vars=job_vars, env=dict(credentials, **proxy_env(proxy.url, "127.0.0.1")))
        assert run.returncode == 0, failure_text(run)
        assert not run.changed_tasks(), "a second run changed %s" % [t["name"] for t in run.changed_tasks()]
        assert set().union(*_peers(sandbox, since).values()) == {"127.0.0.1"}
        assert len(proxy.tunnels()) == tunnels

        # proxy_url wins over the environment, NO_PROXY included.
        since = last_seq(sandbox)
        run = run_playbook(
            PLAYBOOK,
            tmp_path,
            extra_vars=dict(job_vars, azure_user_sync_proxy_url=proxy.url),
            env=dict(credentials, **proxy_env("", "127.0.0.1")),
            tags="registration",
        )
        assert run.returncode == 0, failure_text(run)
        assert set().union(*_peers(sandbox, since).values()) == {PROXY_PEER}


def test_a_proxy_failure_is_clear_and_never_shows_the_proxy_password(sandbox, tmp_path):
    info = sandbox.info
    dead_proxy = "http://squid-user:Pr0xyPa55w0rd@127.0.0.1:9"  # nothing listens on port 9
    options = dict(method_options(info)["client_secret"], proxy_url=dead_proxy, timeout=5)
    with pytest.raises(TokenError) as caught:
        GraphConnection(options, sleep=lambda seconds: None).token()
    text = str(caught.value)
    assert "proxy failure (" in text and "127.0.0.1:9" in text
    assert "Pr0xyPa55w0rd" not in text and info["admin_client_secret"] not in text

    tasks = [
        {
            "name": "Through a proxy that is not there",
            "moduscloud.azure_sync.azure_app_registration_info": dict(
                method_options(info)["client_secret"], proxy_url=dead_proxy, app_id=info["admin_client_id"], timeout=5
            ),
            "register": "answer",
            "ignore_errors": True,
        },
        {"name": "It says so", "ansible.builtin.assert": {"that": ["answer is failed", "'proxy' in answer.msg"]}},
        {
            "name": "A refused sign-in",
            "moduscloud.azure_sync.azure_app_registration_info": dict(
                method_options(info)["client_secret"], client_secret="Wr0ng~" + info["admin_client_secret"][6:], app_id=info["admin_client_id"]
            ),
            "register": "refused",
            "ignore_errors": True,
        },
        {"name": "It says why", "ansible.builtin.assert": {"that": ["refused is failed", "'invalid_client' in refused.msg"]}},
    ]
    run = run_playbook(write_playbook(tmp_path, tasks), tmp_path, env=CLEAN, verbosity=4)
    assert run.returncode == 0, failure_text(run)
    assert_no_secret(run.output, "Pr0xyPa55w0rd", info["admin_client_secret"], info["admin_client_secret"][6:])


# ----------------------------------------------------------------------------------------- TLS trust


def test_tls_trust_follows_ca_path_then_requests_ca_bundle_and_a_wrong_ca_fails_clearly(sandbox, tmp_path):
    info = sandbox.info
    options = dict(method_options(info)["client_secret"])
    del options["ca_path"]
    wrong_ca = "/etc/ssl/certs/ca-certificates.crt" if os.path.exists("/etc/ssl/certs/ca-certificates.crt") else __import__("certifi").where()
    moduscloud = {
        "api_url": info["moduscloud_url"],
        "username": info["moduscloud_user"],
        "password": info["moduscloud_password"],
        "org": info["moduscloud_org"],
    }
    tasks = []
    for label, environment, ca_path, succeeds in (
        ("REQUESTS_CA_BUNDLE alone", {"REQUESTS_CA_BUNDLE": info["ca_bundle"], "SSL_CERT_FILE": wrong_ca}, None, True),
        ("SSL_CERT_FILE when REQUESTS_CA_BUNDLE is empty", {"REQUESTS_CA_BUNDLE": "", "SSL_CERT_FILE": info["ca_bundle"]}, None, True),
        ("ca_path wins over REQUESTS_CA_BUNDLE", {"REQUESTS_CA_BUNDLE": wrong_ca}, info["ca_bundle"], True),
        ("a wrong ca_path", {"REQUESTS_CA_BUNDLE": info["ca_bundle"]}, wrong_ca, False),
    ):
        given = {} if ca_path is None else {"ca_path": ca_path}
        key = label.replace(" ", "_")
        tasks += [
            {
                "name": "Graph: %s" % label,
                "moduscloud.azure_sync.azure_app_registration_info": dict(options, app_id=info["admin_client_id"], include_consent=False, **given),
                "environment": environment,
                "register": "graph_" + key,
                "ignore_errors": not succeeds,
            },
        ]
        if succeeds:
            # (A TLS failure of a modusCloud read is retried by the shared HTTP layer like any lost connection,
            # for about a minute: only the successes are run here.)
            tasks.append(
                {"name": "modusCloud: %s" % label, "moduscloud.azure_sync.moduscloud_sync_info": dict(moduscloud, **given), "environment": environment}
            )
        else:
            tasks.append(
                {
                    "name": "%s: a clear TLS error" % label,
                    "ansible.builtin.assert": {
                        "that": [
                            "graph_%s is failed" % key,
                            "'TLS failure (trusting %s (ca_path)' in graph_%s.msg" % (wrong_ca, key),
                            "'CERTIFICATE_VERIFY_FAILED' in graph_%s.msg" % key,
                        ]
                    },
                }
            )
    run = run_playbook(write_playbook(tmp_path, tasks), tmp_path, env=CLEAN)
    assert run.returncode == 0, failure_text(run)
    assert_no_secret(run.output, info["admin_client_secret"], info["moduscloud_password"])

    # The lookup runs in the controller's own process: its environment is the one it was started with.
    environment = dict(os.environ)
    try:
        os.environ.update(REQUESTS_CA_BUNDLE=info["ca_bundle"])
        assert claims(GraphConnection(options).token())["appid"] == info["admin_client_id"]
        os.environ.update(REQUESTS_CA_BUNDLE=wrong_ca)
        assert claims(GraphConnection(dict(options, ca_path=info["ca_bundle"])).token())["appid"]
        with pytest.raises(TokenError) as caught:
            GraphConnection(options).token()
        assert "TLS failure (trusting %s (REQUESTS_CA_BUNDLE)" % wrong_ca in str(caught.value)
    finally:
        os.environ.clear()
        os.environ.update(environment)

"""The main playbook run as AWX runs it: credentials only in the environment, injected from the credential
types in awx/ exactly as AWX does (every env key of the type, the unused ones as ""), and with the variables
of AWX's built-in "Microsoft Azure Resource Manager" credential.

One sandbox; each credential gets a tenant of its own and its own ansible-playbook process (an environment is
per process), and the runs go side by side. The inventory names no credential at all. Each run must converge
(checked through the sandbox: one app, consent, a key modusCloud's own scheduled sync signs in with), and no
secret may appear in its output.
"""

import json
import os
from concurrent.futures import ThreadPoolExecutor

import jinja2
import pytest
import yaml

from playbook_harness import ROOT, run_playbook
from test_role import assert_converged, assert_no_secret, failure_text, user_addresses, org_state

CREDENTIAL_TYPES = os.path.join(ROOT, "awx", "credential_types")
PLAYBOOK = os.path.join(ROOT, "playbooks", "configure_azure_sync.yml")
# Variables a controller might have that would let a run succeed for the wrong reason.
UNRELATED = (
    "AZURE_TENANT_ID",
    "AZURE_TENANT",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_SYNC_AUTH",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "MSI_ENDPOINT",
    "MODUSCLOUD_USERNAME",
    "MODUSCLOUD_PASSWORD",
    "MODUSCLOUD_STACK",
    "MODUSCLOUD_API_URL",
)


def inject(type_file, inputs, tmp_path):
    """The environment AWX gives a job for a credential of this type: every env injector rendered with the
    inputs given, a field left empty rendering as "", and a file injector written to a file of its own."""
    with open(os.path.join(CREDENTIAL_TYPES, type_file)) as handle:
        credential_type = yaml.safe_load(handle)
    fields = dict((field["id"], field.get("default", "")) for field in credential_type["inputs"]["fields"])
    fields.update(inputs)
    renderer = jinja2.Environment(undefined=jinja2.ChainableUndefined)
    context = dict(fields)
    injectors = credential_type["injectors"]
    if "file" in injectors:
        path = tmp_path / ("awx-file-%s" % type_file)
        path.write_text(renderer.from_string(injectors["file"]["template"]).render(**fields))
        context["tower"] = {"filename": str(path)}
    return dict((name, renderer.from_string(str(template)).render(**context)) for name, template in injectors["env"].items())


def moduscloud_credential(info, stack, tmp_path):
    return inject(
        "moduscloud_admin.yml",
        {"username": info["moduscloud_user"], "password": info["moduscloud_password"], "stack": stack, "api_url": info["moduscloud_url"]},
        tmp_path,
    )


def cases(sandbox, tmp_path):
    """(name, tenant info, job environment) for each credential, each on a tenant of its own."""

    def tenant(name):
        return sandbox.control("POST", "/tenants", json={"name": name})

    found = []
    info = tenant("awx-secret")
    found.append(
        (
            "client secret (certificate left empty)",
            info,
            dict(
                inject(
                    "entra_automation_identity.yml",
                    {"tenant_id": info["tenant_id"], "client_id": info["admin_client_id"], "client_secret": info["admin_client_secret"]},
                    tmp_path,
                ),
                # The example: an empty stack must count as unset (api_url is given).
                **moduscloud_credential(info, "", tmp_path),
            ),
        )
    )
    info = tenant("awx-certificate")
    with open(info["admin_certificate_path"]) as handle:
        pem = handle.read()
    found.append(
        (
            "certificate (secret left empty)",
            info,
            dict(
                inject(
                    "entra_automation_identity.yml",
                    {"tenant_id": info["tenant_domain"], "client_id": info["admin_client_id"], "client_certificate": pem},
                    tmp_path,
                ),
                **moduscloud_credential(info, "auto", tmp_path),
            ),
        )
    )
    info = tenant("awx-managed")
    found.append(
        (
            "managed identity",
            info,
            dict(
                info["managed_identity_env"],  # what the platform (App Service, Arc) sets, not the credential
                **dict(
                    inject("entra_managed_identity.yml", {"client_id": info["managed_identity_client_id"]}, tmp_path),
                    **moduscloud_credential(info, "auto", tmp_path),
                ),
            ),
        )
    )
    info = tenant("awx-workload")
    found.append(
        (
            "workload identity",
            info,
            dict(
                inject(
                    "entra_workload_identity.yml",
                    {"tenant_id": info["tenant_id"], "client_id": info["federated_client_id"], "token_file": info["federated_token_file"]},
                    tmp_path,
                ),
                **moduscloud_credential(info, "auto", tmp_path),
            ),
        )
    )
    info = tenant("awx-azure-rm")
    # AWX's built-in Azure Resource Manager credential (service principal form), as its injector sets it.
    found.append(
        (
            "built-in Azure Resource Manager",
            info,
            dict(
                AZURE_SUBSCRIPTION_ID="00000000-0000-0000-0000-000000000000",
                AZURE_TENANT=info["tenant_id"],
                AZURE_CLIENT_ID=info["admin_client_id"],
                AZURE_SECRET=info["admin_client_secret"],
                AZURE_AD_USER="",
                AZURE_PASSWORD="",
                AZURE_CLOUD_ENVIRONMENT="",
                **moduscloud_credential(info, "auto", tmp_path),
            ),
        )
    )
    return found


def job_vars(info):
    """What a job template's inventory carries: where the services are, never a credential."""
    return {
        "azure_user_sync_org": info["moduscloud_org"],
        "azure_user_sync_authority_host": info["authority_host"],
        "azure_user_sync_graph_url": info["graph_url"],
        "azure_user_sync_ca_path": info["ca_bundle"],
        "azure_user_sync_moduscloud_api_url": info["moduscloud_url"],
    }


def run_job(info, env, tmp_path, check=False):
    job_env = dict.fromkeys(UNRELATED, "")
    job_env.update(env)
    return run_playbook(PLAYBOOK, tmp_path, check=check, diff=True, verbosity=2, extra_vars=job_vars(info), env=job_env)


def test_each_awx_credential_type_and_the_built_in_azure_rm_credential_converge(sandbox, tmp_path):
    jobs = cases(sandbox, tmp_path)
    users_before = dict((info["tenant_id"], user_addresses(org_state(sandbox, info))) for _name, info, _env in jobs)
    folders = []
    for index, _job in enumerate(jobs):
        folder = tmp_path / ("job-%d" % index)
        folder.mkdir()
        folders.append(folder)
    writes_before = sandbox.stats()["writes"]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        plans = list(pool.map(lambda job, folder: run_job(job[1], job[2], folder, check=True), jobs, folders))
    for (name, _info, env), plan in zip(jobs, plans):
        assert plan.returncode == 0, "%s, --check: %s" % (name, failure_text(plan))
        assert_no_secret(plan.output, *[value for key, value in env.items() if "SECRET" in key or "PASSWORD" in key if value])
    assert sandbox.stats()["writes"] == writes_before, "a --check run wrote"
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        runs = list(pool.map(lambda job, folder: run_job(job[1], job[2], folder), jobs, folders))
    for (name, info, env), run in zip(jobs, runs):
        assert run.returncode == 0, "%s: %s" % (name, failure_text(run))
        assert_no_secret(run.output, *[value for key, value in env.items() if "SECRET" in key or "PASSWORD" in key if value])
        assert_converged(sandbox, info, users_before=users_before[info["tenant_id"]])


@pytest.mark.parametrize("type_file", sorted(os.listdir(CREDENTIAL_TYPES)))
def test_every_credential_type_is_one_awx_accepts(type_file):
    """The shape awx.awx.credential_type takes: a name, kind cloud, fields with ids, env injectors only for fields."""
    with open(os.path.join(CREDENTIAL_TYPES, type_file)) as handle:
        credential_type = yaml.safe_load(handle)
    assert credential_type["kind"] == "cloud" and credential_type["name"]
    ids = [field["id"] for field in credential_type["inputs"]["fields"]]
    assert len(ids) == len(set(ids))
    assert set(credential_type["inputs"].get("required") or []) <= set(ids)
    referenced = set()
    for template in credential_type["injectors"]["env"].values():
        referenced.update(name for name in ids if "{{ %s }}" % name in str(template))
    secret_fields = [field["id"] for field in credential_type["inputs"]["fields"] if field.get("secret")]
    assert set(secret_fields) <= referenced | {"client_certificate"}
    json.dumps(credential_type)  # plain data, as the API takes it

"""The collection as Galaxy users get it: build the tarball, install it elsewhere, use only that copy.

One test, in the order a new user goes: `ansible-galaxy collection build`, read the tarball's
listing, `ansible-galaxy collection install` into an empty path, `ansible-doc` on every plugin,
then the main playbook (by its FQCN) against the sandbox, with ANSIBLE_COLLECTIONS_PATH naming
only the installed copy. The outcome is checked through the sandbox's own state.
"""

import json
import os
import subprocess
import sys
import tarfile

from playbook_harness import ROOT, run_playbook
from test_role import assert_no_secret, failure_text, org_state, tenant_vars, user_addresses

BIN = os.path.dirname(sys.executable)
# What is developed here but cannot work installed (the tests need the sandbox, which is a
# development tool) or is not for users at all.
NOT_SHIPPED = ("tests/", "sandbox/", "bench/", ".build/", ".venv/", "Makefile", "requirements-dev.txt")


def run_tool(name, *args, env=None, cwd=None):
    command = [os.path.join(BIN, name)] + list(args)
    completed = subprocess.run(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=600)
    assert completed.returncode == 0, "%s failed:\n%s" % (" ".join(command), completed.stdout[-4000:])
    return completed.stdout


def only_installed(install_path):
    """An environment in which Ansible finds the collection only at `install_path`."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=install_path, ANSIBLE_NOCOLOR="1")
    env.pop("ANSIBLE_COLLECTIONS_PATHS", None)
    return env


def test_the_built_tarball_installs_documents_every_plugin_and_runs_the_main_playbook(fresh_sandbox, tmp_path):
    build_dir, install_dir, work_dir = (tmp_path / name for name in ("build", "installed", "work"))
    for folder in (build_dir, install_dir, work_dir):
        folder.mkdir()

    run_tool("ansible-galaxy", "collection", "build", ROOT, "--output-path", str(build_dir))
    tarballs = list(build_dir.glob("moduscloud-azure_sync-*.tar.gz"))
    assert len(tarballs) == 1, tarballs
    with tarfile.open(str(tarballs[0])) as tarball:
        names = tarball.getnames()
        licence = tarball.extractfile("LICENSE").read().decode("utf-8")
        changelog = tarball.extractfile("CHANGELOG.md").read().decode("utf-8")
        manifest = json.loads(tarball.extractfile("MANIFEST.json").read().decode("utf-8"))
    assert "GNU GENERAL PUBLIC LICENSE" in licence and "Version 3, 29 June 2007" in licence
    assert "TERMS AND CONDITIONS" in licence and "END OF TERMS AND CONDITIONS" in licence, "not the full text"
    assert manifest["collection_info"]["license"] == ["GPL-3.0-or-later"]
    version = manifest["collection_info"]["version"]
    assert "## v%s" % version.replace(".", "\\.") in changelog, "the changelog has no %s section" % version
    shipped_dev_files = sorted(name for name in names if name.startswith(NOT_SHIPPED) or name in NOT_SHIPPED)
    assert shipped_dev_files == [], "the tarball ships what does not work installed: %s" % shipped_dev_files

    env = only_installed(str(install_dir))
    run_tool("ansible-galaxy", "collection", "install", "--offline", str(tarballs[0]), "-p", str(install_dir), env=env)
    installed = install_dir / "ansible_collections" / "moduscloud" / "azure_sync"
    assert (installed / "LICENSE").is_file() and (installed / "CHANGELOG.md").is_file()

    # Every plugin that ships, by type, documented from the installed copy (ansible-doc fails on bad YAML).
    plugins = {
        "module": sorted(name[:-3] for name in os.listdir(str(installed / "plugins" / "modules")) if name.endswith(".py") and not name.startswith("_")),
        "lookup": sorted(name[:-3] for name in os.listdir(str(installed / "plugins" / "lookup")) if name.endswith(".py") and not name.startswith("_")),
        # A filter file may hold several filters; each is documented in a YAML file of its name.
        "filter": sorted(name[:-4] for name in os.listdir(str(installed / "plugins" / "filter")) if name.endswith(".yml")),
        "role": sorted(os.listdir(str(installed / "roles"))),
    }
    assert "moduscloud_user_sync" in plugins["module"] and plugins["lookup"] == ["graph_token"]
    assert "exemption_query_matches" in plugins["filter"]
    for plugin_type, names_of_type in plugins.items():
        fqcns = ["moduscloud.azure_sync." + name for name in names_of_type]
        docs = json.loads(run_tool("ansible-doc", "--json", "-t", plugin_type, *fqcns, env=env, cwd=str(work_dir)))
        assert sorted(docs) == sorted(fqcns), "ansible-doc -t %s documented %s" % (plugin_type, sorted(docs))
        if plugin_type != "role":
            for fqcn in fqcns:
                assert docs[fqcn]["doc"]["short_description"], fqcn
                assert docs[fqcn]["examples"], "%s has no examples" % fqcn
    listing = run_tool("ansible-doc", "-l", "moduscloud.azure_sync", env=env, cwd=str(work_dir))
    assert all("moduscloud.azure_sync." + name in listing for name in plugins["module"])

    # The main playbook, by its FQCN, from the installed copy only.
    users_before = user_addresses(org_state(fresh_sandbox))
    run = run_playbook(
        "moduscloud.azure_sync.configure_azure_sync",
        work_dir,
        diff=True,
        verbosity=3,
        extra_vars=tenant_vars(fresh_sandbox.info),
        env={"ANSIBLE_COLLECTIONS_PATH": str(install_dir)},
    )
    assert_no_secret(run.output, fresh_sandbox.info["admin_client_secret"], fresh_sandbox.info["moduscloud_password"])
    assert run.returncode == 0, failure_text(run)
    # Each module ran from the installed copy, in the controller's worker (the tested core) or as a process.
    assert "runs in the controller's worker process" in run.output
    assert "from %s/plugins/modules/" % installed in run.output or "Using module file %s/plugins/modules/" % installed in run.output
    assert "%s/plugins/modules/" % ROOT not in run.output
    org = org_state(fresh_sandbox)
    assert user_addresses(org) > users_before, "the installed playbook synced no user"
    assert org["azure"]["application_id"], "the installed playbook saved no import settings"

"""Benchmark: the main playbook for a fleet of tenants, first converge and idempotent rerun, with forks.

    python bench/fleet.py [--tenants N ...] [--forks F] [--latency-model default|off] [--modules worker|processes]
                          [--breakdown] [--profile]

Starts its own sandbox, adds N tenants to it (POST {control_url}/tenants; each has the default small
directory and its own modusCloud organization), writes an inventory with one host per tenant, as an MSP
would, and runs playbooks/configure_azure_sync.yml twice with `--forks F`: the first converge, then the
rerun that should change nothing. For each run it prints:

- **wall s** and **wall s/tenant**: the run's wall time, and divided by the tenants;
- **CPU s/tenant**: the CPU time of ansible-playbook and everything it started (its forks and the module
  processes), divided by the tenants: what a tenant costs this machine, whatever the forks;
- **requests/tenant** and **writes**: Graph and modusCloud requests from the sandbox's stats (HTTP round
  trips; requests inside a JSON batch count once, as the batch), and the write requests in total;
- **tasks/tenant**: the tasks each host ran or skipped, from the play recap (ok, failed and skipped; a
  skipped task still costs a fork of the controller);
- **changed** and **failed**: totals over the play recap's hosts.

`--modules processes` runs every module as its own process (the switch `moduscloud_azure_sync_in_process: false`)
instead of in the controller's worker process (the default, plugins/plugin_utils/_in_process.py), to compare.
`--breakdown` also prints the requests of each run (converge, rerun) of one tenant by method and path, to see what is read
more than once. `--profile` prints where the rerun's CPU goes: per task (all hosts), split into the
controller's own process, its forks and the module processes (with `--modules processes`: their interpreter is
wrapped to time them; modules in the worker are part of the forks' CPU).
The figures are printed, not asserted (targets: a rerun of 100 tenants in 150 s with no write and
changed=0, at most 1.5 s of CPU per tenant).

The controller runs with the settings an MSP would use for a fleet (FLEET_SETTINGS, written to an
ansible.cfg in the run's folder; `--settings ansible` runs with ansible-core's defaults instead, to
compare). docs/many-tenants.md states them as what its figures assume.
"""

import argparse
import collections
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # run as a script from bench/: the sandbox package lives at the repository root

from sandbox.launch import RunningSandbox, SandboxStartError, role_vars  # noqa: E402 (needs ROOT on sys.path)

COLLECTIONS = os.path.join(ROOT, ".build", "collections")
PLAYBOOK = os.path.join(ROOT, "playbooks", "configure_azure_sync.yml")
DEFAULT_TENANTS = (20, 100)
CALLBACKS = os.path.join(ROOT, "bench", "callback_plugins")

# What the figures assume, in an ansible.cfg (docs/many-tenants.md, "Controller settings for a fleet"):
# modules fed to the interpreter on stdin instead of copied to a temporary folder and run (pipelining:
# no mkdir, chmod and rm processes per task); the controller's main loop looking at its forks every 10 ms
# rather than every 1 ms (a tenant's task waits on the network for hundreds of ms, and the faster loop
# spends CPU doing nothing); no facts (the playbook sets gather_facts: false already); and no lines for
# skipped tasks.
FLEET_SETTINGS = """[defaults]
internal_poll_interval = 0.01
gathering = explicit
display_skipped_hosts = false

[connection]
pipelining = true
"""
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)", re.M)
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tenants", type=int, action="append", metavar="N", help="fleet size to measure (repeatable; default: %s)" % " and ".join(map(str, DEFAULT_TENANTS))
    )
    parser.add_argument("--forks", type=int, default=20, help="ansible-playbook --forks (default 20)")
    parser.add_argument("--latency-model", choices=("default", "off"), default="default", help="the sandbox's latency and throttling model (default: on)")
    parser.add_argument(
        "--modules", choices=("worker", "processes"), default="worker", help="where modules run: the controller's worker (default) or processes"
    )
    parser.add_argument("--breakdown", action="store_true", help="print one tenant's requests by endpoint, for each run")
    parser.add_argument("--profile", action="store_true", help="print where the rerun's CPU goes, per task")
    parser.add_argument(
        "--settings", choices=("fleet", "ansible"), default="fleet", help="controller settings: FLEET_SETTINGS (default) or ansible-core's defaults"
    )
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as workdir:
        try:
            sandbox = RunningSandbox.start(workdir, "--latency-model", options.latency_model)
        except SandboxStartError as error:
            raise SystemExit(str(error))
        if options.settings == "fleet":
            with open(os.path.join(workdir, "ansible.cfg"), "w") as handle:
                handle.write(FLEET_SETTINGS)
        with sandbox:
            print(
                "latency model: %s; forks %d; controller settings: %s; modules: %s; load average %s"
                % (options.latency_model, options.forks, options.settings, options.modules, " ".join("%.1f" % load for load in os.getloadavg()))
            )
            print(
                "\n%-7s %-8s %7s %13s %12s %16s %12s %7s %8s %7s"
                % ("tenants", "run", "wall s", "wall s/tenant", "CPU s/tenant", "requests/tenant", "tasks/tenant", "writes", "changed", "failed"),
                flush=True,
            )
            for count in options.tenants or DEFAULT_TENANTS:
                sandbox.reset()
                tenants = [sandbox.info] + [sandbox.control("POST", "/tenants", {"name": "t%03d" % index}) for index in range(1, count)]
                inventory = os.path.join(workdir, "inventory-%d.json" % count)
                write_inventory(inventory, tenants)
                for run in ("converge", "rerun"):
                    since = last_journal_seq(sandbox)
                    profile = options.profile and run == "rerun"
                    row = measure(sandbox, inventory, options.forks, workdir, profile, options.modules)
                    print(
                        "%-7d %-8s %7.1f %13.2f %12.2f %16.1f %12.1f %7d %8d %7d"
                        % (
                            count,
                            run,
                            row["wall"],
                            row["wall"] / count,
                            row["cpu"] / count,
                            row["requests"] / count,
                            row["tasks"] / count,
                            row["writes"],
                            row["changed"],
                            row["failed"],
                        ),
                        flush=True,
                    )
                    if row["failed"] or row["returncode"]:
                        print(row["tail"])
                    if options.breakdown:
                        print_breakdown(sandbox, since, run)
                    if profile:
                        print_profile(row["profile"], count)
            print("load average at the end: %s" % " ".join("%.1f" % load for load in os.getloadavg()))


def write_inventory(path, tenants):
    hosts = {}
    for info in tenants:
        hosts[info["moduscloud_org"]] = dict(role_vars(info), ansible_connection="local")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds secrets
    with os.fdopen(descriptor, "w") as handle:
        json.dump({"all": {"hosts": hosts}}, handle)


def last_journal_seq(sandbox):
    entries = sandbox.control("GET", "/journal")["entries"]
    return entries[-1]["seq"] if entries else 0


def measure(sandbox, inventory, forks, workdir, profile=False, modules="worker"):
    environment = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_HOST_KEY_CHECKING="0")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory, "--forks", str(forks), PLAYBOOK]
    timings = os.path.join(workdir, "module-cpu.txt")
    tasks = os.path.join(workdir, "task-cpu.json")
    if modules == "processes":
        command += ["-e", "moduscloud_azure_sync_in_process=false"]
    if profile:
        environment.update(ANSIBLE_CALLBACK_PLUGINS=CALLBACKS, ANSIBLE_CALLBACKS_ENABLED="task_cpu", TASK_CPU_OUT=tasks)
        if modules == "processes":  # a wrapped interpreter is not ansible-playbook's: modules would leave the worker
            command += ["-e", "ansible_python_interpreter=%s" % timed_interpreter(workdir, timings)]
        else:
            open(timings, "w").close()
    before = sandbox.stats()
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    run = subprocess.run(command, cwd=workdir, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    wall = time.monotonic() - started
    usage_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    after = sandbox.stats()
    recap = RECAP.findall(run.stdout)
    if profile:
        with open(tasks) as handle:
            task_rows = json.load(handle)
        with open(timings) as handle:
            modules = [float(line.split()[0]) + float(line.split()[1]) for line in handle if line.strip()]
        os.remove(timings)
    return {
        "profile": profile and {"tasks": task_rows, "modules": modules},
        "wall": wall,
        "cpu": (usage_after.ru_utime - usage_before.ru_utime) + (usage_after.ru_stime - usage_before.ru_stime),
        "requests": after["requests"] - before["requests"],
        "writes": after["writes"] - before["writes"],
        "tasks": sum(int(host[1]) + int(host[4]) + int(host[5]) for host in recap),
        "changed": sum(int(host[2]) for host in recap),
        "failed": sum(int(host[3]) + int(host[4]) for host in recap),
        "returncode": run.returncode,
        "tail": run.stdout[-4000:],
    }


def timed_interpreter(workdir, timings):
    """An interpreter for the module processes that appends each one's user and system CPU seconds to `timings`."""
    path = os.path.join(workdir, "timed-python")
    with open(path, "w") as handle:
        handle.write("#!/bin/sh\nexec /usr/bin/time -a -o %s -f '%%U %%S' %s \"$@\"\n" % (timings, sys.executable))
    os.chmod(path, 0o700)
    return path


def print_profile(profile, tenants):
    """The rerun's CPU per tenant: in total, in the module processes, and per task (the costliest first)."""
    rows = profile["tasks"]
    total = sum(row["controller"] + row["children"] for row in rows)
    modules = sum(profile["modules"])
    module_tasks = [row for row in rows if row["action"].startswith("moduscloud.azure_sync.") and row["children"] > 0.05 * tenants]
    print(
        "  rerun CPU per tenant: %.2f s in tasks; module processes %.2f s (%d, %.3f s each); the controller "
        "and its forks %.2f s"
        % (total / tenants, modules / tenants, len(profile["modules"]), modules / max(len(profile["modules"]), 1), (total - modules) / tenants)
    )
    print(
        "  module tasks that ran: %d, %.2f s per tenant; other tasks: %d, %.2f s per tenant"
        % (
            len(module_tasks),
            sum(row["controller"] + row["children"] for row in module_tasks) / tenants,
            len(rows) - len(module_tasks),
            sum(row["controller"] + row["children"] for row in rows if row not in module_tasks) / tenants,
        )
    )
    print("  %8s %8s  %s" % ("CPU s", "per host", "task"))
    for row in sorted(rows, key=lambda row: -(row["controller"] + row["children"]))[:25]:
        cpu = row["controller"] + row["children"]
        print("  %8.2f %8.3f  %s [%s]" % (cpu, cpu / tenants, row["task"][:90], row["action"].split(".")[-1]))


def print_breakdown(sandbox, since, run):
    """One tenant's share of a run: requests by service, method and path (ids replaced by {id})."""
    entries = sandbox.control("GET", "/journal?since=%d" % since)["entries"]
    tenant_paths = collections.Counter()
    for entry in entries:
        if entry["service"] == "login" or entry.get("batch"):
            continue
        path = re.sub(r"/users/[^/]+@[^/]+", "/users/{address}", GUID.sub("{id}", entry["path"]))
        path = re.sub(r"/orgs/[^/]+", "/orgs/{org}", path)
        tenant_paths[(entry["service"], entry["method"], path)] += 1
    tenants = len(sandbox.state()["tenants"])
    print("  %s requests per tenant by endpoint:" % run)
    for (service, method, path), number in sorted(tenant_paths.items(), key=lambda item: -item[1]):
        print("  %6.1f  %-10s %-6s %s" % (number / tenants, service, method, path))


if __name__ == "__main__":
    main()

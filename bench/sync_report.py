"""Benchmark: moduscloud_user_sync's report for large directories, against a sandbox it starts itself.

    python bench/sync_report.py [--size USERS:GROUPS ...] [--latency-model default|off] [--keep-reports DIR]

The sandbox runs with its latency and throttling model (default; see bench/README.md for the numbers and
their sources), so the figures say how long a real tenant would take rather than how fast the sandbox is.
For each size it seeds the sandbox's directory (POST {control_url}/seed), runs the module's report mode as
its own process (`python -m <module> <args file>`, as Ansible runs it) and prints the wall time, the Graph
requests the run made (HTTP round trips, and the requests inside JSON batches), the module process's peak
memory (RSS), the model's lower bound for that directory and the ratio of the wall time to it. The set-up
before the first size - the sync app, its admin consent and secret, the missing tenant domain and the import
settings - runs through the collection's own modules in a playbook, as a user would do it; it is not timed.

The lower bound is the longest chain of round trips the data forces, under the model: the sign-in (two
round trips to the login host), then the longer of the users' pages one after the other, and the groups'
pages one after the other followed by one batch of member reads; and never less than the time the
throttling budget needs to pass every resource unit the read spends. Nothing else (Python start-up, the
modusCloud reads, the reconciliation) counts, so a ratio near 1 is the best any reader could do.

Targets on a 2-core machine, under the model: 10k/2k in 15 s and 100k/20k in 90 s, each within 1.5 times
the lower bound, peak RSS under 1 GiB. The figures are printed, not asserted: a benchmark reports, tests
decide.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # run as a script from bench/: the sandbox package lives at the repository root

from sandbox.launch import RunningSandbox, SandboxStartError, write_local_playbook  # noqa: E402 (needs ROOT on sys.path)

COLLECTIONS = os.path.join(ROOT, ".build", "collections")
MODULE = "ansible_collections.moduscloud.azure_sync.plugins.modules.moduscloud_user_sync"
DEFAULT_SIZES = ("2000:400", "10000:2000", "100000:20000")
# Targets under the latency model: seconds by directory size (users), and the ratio to the lower bound.
TARGET_SECONDS = ((10000, 15), (100000, 90))
TARGET_RATIO = 1.5
TARGET_BYTES = 1 << 30
PAGE = 999
BATCH = 20
# Resource units of the reads (Microsoft's cost table, with $select): a page of users or groups 1, the
# members of one group 2; the domains read 1.
MEMBER_UNITS = 2
# Members per group in the seeded directory: at most 12.
MAX_MEMBERS = 12
# Seeding 100k users takes a while.
SEED_TIMEOUT = 300


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--size", action="append", metavar="USERS:GROUPS", help="directory size to measure (repeatable; default: %s)" % " and ".join(DEFAULT_SIZES)
    )
    parser.add_argument("--keep-reports", metavar="DIR", help="write each full report (JSON and Markdown) here")
    parser.add_argument(
        "--latency-model",
        choices=("default", "off"),
        default="default",
        help="the sandbox's latency and throttling model (default: on, with the documented numbers)",
    )
    options = parser.parse_args()
    sizes = [parse_size(text) for text in options.size or DEFAULT_SIZES]

    with tempfile.TemporaryDirectory(prefix="bench-sync-report-") as workdir:
        try:
            sandbox = RunningSandbox.start(workdir, "--latency-model", options.latency_model)
        except SandboxStartError as error:
            raise SystemExit(str(error))
        with sandbox:
            print("Setting up the sync app and the import settings through the collection's modules ...", flush=True)
            args_file = prepare(sandbox, workdir)
            model = sandbox.control("GET", "/latency")
            print("latency model: %s" % ("on" if model["enabled"] else "off"))
            print(
                "\n%-8s %-7s %8s %9s %8s %8s %6s %6s %7s %7s  %s"
                % ("users", "groups", "seconds", "requests", "batched", "RSS MiB", "bound", "ratio", "adds", "skipped", "target")
            )
            for users, groups in sizes:
                sandbox.control("POST", "/seed", {"users": users, "groups": groups}, timeout=SEED_TIMEOUT)
                report_dir = options.keep_reports or workdir
                row = measure(sandbox, args_file, os.path.join(report_dir, "report-%d-%d.json" % (users, groups)))
                bound = lower_bound(model, users, groups) if model["enabled"] else None
                ratio = row["seconds"] / bound if bound else None
                print(
                    "%-8d %-7d %8.1f %9d %8d %8.0f %6s %6s %7d %7d  %s"
                    % (
                        users,
                        groups,
                        row["seconds"],
                        row["graph_requests"],
                        row["graph_batched"],
                        row["peak_rss"] / 2.0**20,
                        "%.1f" % bound if bound else "-",
                        "%.2f" % ratio if ratio else "-",
                        row["counts"]["add"],
                        row["counts"]["skipped"],
                        verdict(users, row, ratio),
                    ),
                    flush=True,
                )


def verdict(users, row, ratio):
    """'met', 'MISSED (...)' or '-' where the issue sets no target for this size."""
    seconds = dict(TARGET_SECONDS).get(users)
    if seconds is None:
        return "-"
    missed = []
    if row["seconds"] > seconds:
        missed.append("<= %d s" % seconds)
    if ratio is not None and ratio > TARGET_RATIO:
        missed.append("<= %.1fx bound" % TARGET_RATIO)
    if row["peak_rss"] >= TARGET_BYTES:
        missed.append("< 1 GiB")
    return "met" if not missed else "MISSED (%s)" % ", ".join(missed)


def lower_bound(model, users, groups):
    """Seconds: the longest chain of round trips the directory forces under the model (see the docstring)."""
    rtt, per_object, inner = model["rtt_ms"], model["per_object_ms"], model["inner_ms"]

    def pages(count):
        """Seconds of reading `count` objects in pages of 999, one page after the other."""
        full, rest = divmod(count, PAGE)
        sizes = [PAGE] * full + ([rest] if rest or not full else [])
        return sum(rtt["graph"] + size * per_object["graph"] for size in sizes) / 1000.0

    sign_in = 2 * rtt["login"] / 1000.0
    one_batch = (rtt["graph"] + inner["graph"] + MAX_MEMBERS * per_object["graph"]) / 1000.0 if groups else 0.0
    chain = max(pages(users), pages(groups) + one_batch)
    throttle = model["throttle"]
    floor = 0.0
    if throttle["enabled"]:
        size = "S" if users < throttle["size_limits"]["S"] else "M" if users <= throttle["size_limits"]["M"] else "L"
        budget = throttle["budgets"][size]
        units = 1 + math.ceil(users / PAGE) + math.ceil(groups / PAGE) + MEMBER_UNITS * groups
        floor = throttle["window_seconds"] * ((units - 1) // budget)
    return sign_in + max(chain, floor)


def parse_size(text):
    try:
        users, groups = (int(part) for part in text.split(":"))
    except ValueError:
        raise SystemExit("--size must be USERS:GROUPS such as 100000:20000, got %r" % text)
    return users, groups


def prepare(sandbox, workdir):
    """Register the sync app with consent and a secret, add the tenant's onmicrosoft domain to the org and save
    the import settings; return the path of the module's argument file (0600: it holds the key)."""
    info = sandbox.info
    args_file = os.path.join(workdir, "module-args.json")
    tasks = [
        {
            "name": "Register the sync app",
            "moduscloud.azure_sync.azure_app_registration": {
                "unique_name": "moduscloud-bench",
                "display_name": "modusCloud",
                "api_permissions": [{"api": "Microsoft Graph", "application": ["Directory.Read.All"]}],
            },
            "register": "app",
        },
        {"name": "Grant admin consent", "moduscloud.azure_sync.azure_app_consent": {"app_id": "{{ app.app_id }}"}},
        {
            "name": "Create its secret",
            "moduscloud.azure_sync.azure_app_secret": {"app_id": "{{ app.app_id }}", "description": "modusCloud"},
            "register": "secret",
            "no_log": True,
        },
        {
            "name": "Add the tenant's onmicrosoft domain to the organization",
            "moduscloud.azure_sync.moduscloud_domain": {"org": info["moduscloud_org"], "domains": [info["tenant_initial_domain"]]},
        },
        {
            "name": "Save the import settings",
            "moduscloud.azure_sync.moduscloud_import_settings": {
                "org": info["moduscloud_org"],
                "primary_domain": info["tenant_domain"],
                "application_id": "{{ app.app_id }}",
                "key": "{{ secret.value }}",
            },
        },
        {
            "name": "Write the module's arguments",
            "no_log": True,
            "ansible.builtin.copy": {"dest": args_file, "mode": "0600", "content": "{{ {'ANSIBLE_MODULE_ARGS': module_args} | to_json }}"},
            "vars": {
                "module_args": {
                    "org": info["moduscloud_org"],
                    "mode": "report",
                    "key": "{{ secret.value }}",
                    "api_url": info["moduscloud_url"],
                    "username": info["moduscloud_user"],
                    "password": info["moduscloud_password"],
                    "ca_path": info["ca_bundle"],
                    "authority_host": info["authority_host"],
                    "graph_url": info["graph_url"],
                }
            },
        },
    ]
    playbook = write_local_playbook(os.path.join(workdir, "prepare.yml"), info, tasks, name="Prepare the benchmark")
    environment = dict(
        os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0"
    )
    run = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", playbook],
        cwd=workdir,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        universal_newlines=True,
    )
    if run.returncode != 0:
        raise SystemExit("the set-up playbook failed:\n%s" % run.stdout[-6000:])
    return args_file


def measure(sandbox, args_file, report_path):
    """Run the module once as its own process; wall time, Graph requests, peak RSS and the report counts."""
    with open(args_file) as handle:
        arguments = json.load(handle)
    arguments["ANSIBLE_MODULE_ARGS"]["report_path"] = report_path
    run_args = os.path.join(os.path.dirname(args_file), "run-args.json")
    descriptor = os.open(run_args, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(arguments, handle)

    before = sandbox.stats()["by_service"]["graph"]
    output, errors = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", MODULE, run_args], cwd=ROOT, stdout=output, stderr=errors, env=dict(os.environ, PYTHONPATH=COLLECTIONS))
    # wait4 rather than wait: it returns the resource usage of this one child, peak RSS included.
    usage = os.wait4(process.pid, 0)[2]
    seconds = time.monotonic() - started
    after = sandbox.stats()["by_service"]["graph"]
    output.seek(0)
    errors.seek(0)
    try:
        result = json.loads(output.read().decode("utf-8", "replace"))
    except ValueError:
        result = {"failed": True, "msg": errors.read().decode("utf-8", "replace")[-3000:]}
    if result.get("failed"):
        raise SystemExit("the module failed: %s" % result.get("msg"))
    return {
        "seconds": seconds,
        "graph_requests": after["requests"] - before["requests"],
        "graph_batched": after["batched"] - before["batched"],
        "counts": result["report"]["counts"],
        # ru_maxrss is in KiB on Linux: the peak of this one child process.
        "peak_rss": usage.ru_maxrss * 1024 if sys.platform.startswith("linux") else usage.ru_maxrss,
    }


if __name__ == "__main__":
    main()

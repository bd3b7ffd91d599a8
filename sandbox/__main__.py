"""python -m sandbox serve --info-file PATH [--users N --groups M --seed S] [--page-size K] [--latency-model default]
    [--moduscloud-variant NAME]...
python -m sandbox variants

Serves HTTPS on 127.0.0.1 (login, Graph, modusCloud and control, each on its own port) with a CA
made at start. When every port answers it writes PATH atomically: JSON with the URLs, the CA
bundle and the default tenant's credentials (see Sandbox.info). Runs until SIGTERM or Ctrl-C,
then stops the servers and removes PATH and the keys it made.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import tempfile
import threading

from .server import Sandbox


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _page_size(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 999:
        raise argparse.ArgumentTypeError("must be from 1 to 999")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.split("\n\n")[1])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the sandbox until SIGTERM")
    serve.add_argument("--info-file", required=True, help="where to write the connection info (JSON) when ready")
    serve.add_argument("--users", type=_non_negative, help="generate a directory of N users instead of the default 8")
    serve.add_argument("--groups", type=_non_negative, help="generate M groups (with --users)")
    serve.add_argument("--seed", type=_non_negative, default=0, help="seed of the generated directory (default 0)")
    serve.add_argument("--page-size", type=_page_size, default=5, help="default page size of applications and servicePrincipals (default 5; Graph uses 100)")
    serve.add_argument(
        "--latency-model",
        choices=("off", "default"),
        default="off",
        help="answer as slowly as the real services and throttle Graph as Microsoft documents (default: off; the control API's /latency changes it)",
    )
    serve.add_argument(
        "--moduscloud-variant",
        action="append",
        default=[],
        type=_variant,
        metavar="NAME",
        help="answer an open modusCloud API question this way (repeatable; see `variants`)",
    )
    serve.add_argument("--verbose", action="store_true", help="log every request to stderr")
    commands.add_parser("variants", help="list the modusCloud variants (question:answer), one per line; the first answer of each question is the default")
    return parser


def _variant(text: str) -> str:
    from .moduscloud import parse_variants

    try:
        parse_variants([text])
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _write_atomically(path: str, data: dict) -> None:
    """Readers see no file or the whole file, never half of it (it holds secrets: mode 0600)."""
    directory = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".sandbox-info-")
    try:
        with os.fdopen(descriptor, "w") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def main(argv=None) -> int:
    options = _parser().parse_args(argv)
    if options.command == "variants":
        from .moduscloud import VARIANTS

        print("\n".join(VARIANTS))
        return 0
    logging.basicConfig(level=logging.DEBUG if options.verbose else logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    sandbox = Sandbox(
        page_size=options.page_size,
        users=options.users,
        groups=options.groups,
        seed=options.seed,
        latency_model=options.latency_model,
        moduscloud_variants=options.moduscloud_variant,
    )
    try:
        sandbox.start()
        _write_atomically(options.info_file, sandbox.info())
        print(f"sandbox ready: control {sandbox.control_url}, info in {options.info_file}", file=sys.stderr, flush=True)
        stop.wait()
    finally:
        sandbox.stop()
        if os.path.exists(options.info_file):
            os.unlink(options.info_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())

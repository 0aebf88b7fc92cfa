"""Command line of the sandbox: up, down, status (and serve, which `up` runs in the background)."""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import sites as sites_file
from . import state
from .testbed import ensure_binaries

DEFAULT_SITES = Path(__file__).resolve().parent / "sites" / "demo.yml"
DEFAULT_DIR = Path(".sandbox")
UP_TIMEOUT = 300.0
DOWN_TIMEOUT = 60.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the sandbox in the background and return when it is ready")
    up.add_argument("--sites", type=Path, default=DEFAULT_SITES, help="sites file (default: sandbox/sites/demo.yml)")
    up.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="sandbox directory (default: .sandbox)")
    up.add_argument("--timeout", type=float, default=UP_TIMEOUT, help="seconds to wait for readiness")
    down = sub.add_parser("down", help="stop the sandbox; its state stays in --dir")
    down.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    status = sub.add_parser("status", help="is it running, where, and what do the sites look like")
    status.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    status.add_argument("--json", action="store_true", help="machine-readable output")
    serve = sub.add_parser("serve", help=argparse.SUPPRESS)
    serve.add_argument("--sites", type=Path, required=True)
    serve.add_argument("--dir", type=Path, required=True)
    serve.add_argument("--bin", type=Path, required=True)
    return parser


def cmd_up(args) -> int:
    directory = args.dir.resolve()
    try:
        parsed = sites_file.load(args.sites)
    except (OSError, ValueError) as err:
        print(f"sandbox: cannot use sites file {args.sites}: {err}", file=sys.stderr)
        return 2
    running = state.running(directory)
    if running:
        if running.get("sites_file") == str(args.sites.resolve()):
            print(f"sandbox: already running in {directory} ({running['url']})")
            return 0
        print(
            f"sandbox: {directory} runs another sites file ({running.get('sites_file')}); run down first",
            file=sys.stderr,
        )
        return 2
    bin_dir = ensure_binaries()
    directory.mkdir(parents=True, exist_ok=True)
    state.clear_ready(directory)
    print(f"sandbox: starting {len(parsed.sites)} site(s) in {directory}", file=sys.stderr)
    with open(directory / "sandbox.log", "ab") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sandbox",
                "serve",
                "--sites",
                str(args.sites.resolve()),
                "--dir",
                str(directory),
                "--bin",
                str(bin_dir),
            ],
            cwd=Path(__file__).resolve().parent.parent,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    deadline = time.monotonic() + args.timeout
    while True:
        ready = state.read_ready(directory)
        if ready:
            break
        if proc.poll() is not None:
            print(
                f"sandbox: failed to start (exit {proc.returncode}); last lines of {directory / 'sandbox.log'}:",
                file=sys.stderr,
            )
            print(state.log_tail(directory), file=sys.stderr)
            return 1
        if time.monotonic() > deadline:
            print(
                f"sandbox: not ready after {args.timeout:.0f}s; stopping it. Log: {directory / 'sandbox.log'}",
                file=sys.stderr,
            )
            _stop(directory, proc.pid)
            return 1
        time.sleep(0.2)
    print(f"sandbox: ready in {ready['startup_seconds']:.1f}s at {ready['url']}")
    print(f"  inventory  {directory / 'inventory.yml'}")
    print(f"  env        . {directory / 'env.sh'}")
    for site in ready["sites"]:
        print(f"  site       {site['name']:<20} kubeconfig {site['kubeconfig']}")
    print(f"  stop with  python -m sandbox down --dir {directory}")
    return 0


def _stop(directory: Path, pid: int) -> bool:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + DOWN_TIMEOUT
    while state.pid_alive(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.1)
    return True


def cmd_down(args) -> int:
    directory = args.dir.resolve()
    pid = state.supervisor_pid(directory)
    if pid:
        _stop(directory, pid)
    # Whatever a killed supervisor left behind is stopped from the pid files.
    leftovers = state.stop_leftovers(directory)
    state.clear_ready(directory)
    print(
        f"sandbox: stopped{' (cleaned up ' + ', '.join(leftovers) + ')' if leftovers else ''}; state kept in "
        f"{directory}"
    )
    return 0


def cmd_status(args) -> int:
    directory = args.dir.resolve()
    info = state.status(directory)
    if args.json:
        print(json.dumps(info, indent=2))
    elif not info["running"]:
        print(f"sandbox: not running in {directory}")
    else:
        print(f"sandbox: running at {info['url']} (pid {info['pid']})")
        for site in info["sites"]:
            print(f"  {site['name']:<20} {site.get('connectivity', '?'):<12} {site['server']}")
    return 0 if info["running"] else 3


def cmd_serve(args) -> int:
    from .supervisor import serve

    return serve(args.sites, args.dir, args.bin)


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    return {"up": cmd_up, "down": cmd_down, "status": cmd_status, "serve": cmd_serve}[args.command](args)

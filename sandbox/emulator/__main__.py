"""python -m sandbox.emulator --dir DIR [--port 0] [--sites FILE] [--agent-mode emulated|external] [--lro-seconds S]
[--throttle-scale F]"""

import argparse
import logging
import sys
from pathlib import Path

from .server import run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.emulator", description=__doc__)
    parser.add_argument("--dir", type=Path, required=True, help="directory for the CA, state and emulator.json")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--sites", type=Path, help="sites file to seed the subscription from")
    parser.add_argument("--agent-mode", choices=("emulated", "external"), help="who finishes extension operations")
    parser.add_argument("--lro-seconds", type=float, help="duration of every long-running operation")
    parser.add_argument(
        "--throttle-scale", type=float, help="ARM's token buckets at this fraction of Azure's (0: off; default 1)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stderr)
    sites = None
    if args.sites:
        from sandbox import sites as sites_file

        sites = sites_file.load(args.sites)
    settings = {}
    if args.agent_mode:
        settings["agent_mode"] = args.agent_mode
    if args.lro_seconds is not None:
        settings["lro_seconds"] = args.lro_seconds
    if args.throttle_scale is not None:
        settings["throttle_scale"] = args.throttle_scale
    run(args.dir, args.port, sites, settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())

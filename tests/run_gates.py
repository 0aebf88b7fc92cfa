"""Run every quality gate through make, keep going after a failure, summarise.

Each gate is a make target; the summary says which ran, how long each took and
which failed, and the exit status is non-zero if any gate failed.
"""

import subprocess
import sys
import time


def main(gates):
    results = []
    for gate in gates:
        started = time.monotonic()
        rc = subprocess.call(["make", "--no-print-directory", gate])
        results.append((gate, rc, time.monotonic() - started))
    print("\n== gates")
    for gate, rc, seconds in results:
        print(f"  {'PASS' if rc == 0 else 'FAIL'}  {gate:<20} {seconds:7.1f}s")
    failed = sum(1 for result in results if result[1])
    print(f"gates: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

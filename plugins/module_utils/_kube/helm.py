# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""Running the helm 3 binary without leaking secrets, against the cluster the Kubernetes client uses.

- helm reads the connection's own kubeconfig (`--kubeconfig`, a 0600 file built from the same resolved
  connection as the Kubernetes client), never KUBECONFIG, an in-cluster token or flags of its own.
- Values go to helm in a 0600 file inside a private directory, removed after the command (and, through
  _common.scratch, when the process is terminated).
- helm runs with an allow-listed environment, so credentials in the controller's environment (AZURE_SECRET,
  K8S_AUTH_API_KEY, HELM_KUBETOKEN, ...) and settings that would change its target or storage (KUBECONFIG,
  HELM_DRIVER, HELM_NAMESPACE) never reach it.
- Known secret strings are masked in any helm output quoted in an error.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError, one_line, redact
from ansible_collections.hci.arc_ml.plugins.module_utils._common.scratch import private_directory, write_private_file

SUPPORTED_MAJOR_VERSION = 3
# helm 3.8 made OCI registries (where the Arc agent chart is) generally available.
MINIMUM_VERSION = (3, 8, 0)
INSTALL_HINT = "install a helm 3 release (3.8 or later) and set helm_binary to it, or put it first on PATH"
# Time helm itself gets on top of its own --timeout before the process is stopped.
PROCESS_GRACE_SECONDS = 60
DEFAULT_PROCESS_TIMEOUT = 300

_PASSED_ENVIRONMENT = frozenset(
    (
        "PATH",
        "HOME",
        "USER",
        "LANG",
        "LC_ALL",
        "LC_CTYPE",
        "TMPDIR",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "XDG_CACHE_HOME",
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "HELM_CACHE_HOME",
        "HELM_CONFIG_HOME",
        "HELM_DATA_HOME",
        "HELM_PLUGINS",
        "HELM_REGISTRY_CONFIG",
        "HELM_REPOSITORY_CACHE",
        "HELM_REPOSITORY_CONFIG",
    )
)


class HelmError(ArcMLError):
    """helm is missing, unsupported, or a helm command failed."""


class HelmResult:
    def __init__(self, rc, stdout, stderr):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr


def find_helm(binary=None, environ=None):
    """The path of the helm binary: `binary` if given, else `helm` on PATH."""
    environ = os.environ if environ is None else environ
    if binary:
        if os.path.isfile(binary) and os.access(binary, os.X_OK):
            return binary
        raise HelmError(f"helm_binary {binary} does not exist or is not an executable file; {INSTALL_HINT}.")
    found = shutil.which("helm", path=environ.get("PATH"))
    if not found:
        raise HelmError(f"helm was not found on PATH; {INSTALL_HINT} (in AWX: use an execution environment with helm).")
    return found


def parse_version(text):
    """(major, minor, patch) from helm's version string, e.g. 'v3.14.4' or 'v3.14.4+g81c902a'."""
    match = re.search(r"v?(\d+)\.(\d+)\.(\d+)", text or "")
    if not match:
        raise HelmError(f"Cannot read helm's version from {one_line(text, limit=100)!r}.")
    return tuple(int(part) for part in match.groups())


def release_summary(release):
    """What a result may show of a helm release: never its values (`config`) or its `manifest`.

    `release` is helm's JSON for one release (helm status, helm upgrade) or an entry of `helm list`; {} for none.
    `chart_version` is there only when helm's answer names it (helm list spells the chart as one string).
    """
    if not release:
        return {}
    info = release.get("info") or {}
    revision = release.get("version", release.get("revision"))
    try:
        revision = int(revision)
    except (TypeError, ValueError):
        revision = None
    summary = {
        "name": release.get("name"),
        "namespace": release.get("namespace"),
        "status": info.get("status") or release.get("status"),
        "revision": revision,
    }
    chart = release.get("chart")
    if isinstance(chart, dict):
        summary["chart_version"] = (chart.get("metadata") or {}).get("version")
    return summary


class HelmRunner:
    """Runs helm against one cluster connection (see _kube.KubeConnection)."""

    def __init__(self, binary, connection, secrets=(), environ=None, run_process=subprocess.run):
        self.binary = binary
        self.connection = connection
        # A live view, not a copy: secrets registered later (a key generated after this runner) are masked too.
        self._secrets = secrets
        self._environ = os.environ if environ is None else environ
        self._run_process = run_process
        self.version = None

    def check_version(self):
        """Fail unless the binary is helm 3.8 or later; return (major, minor, patch).

        helm 4 applies charts server-side by default and waits with kstatus
        (https://helm.sh/community/hips/hip-0022), which changes how the agent releases install, upgrade and
        adopt existing objects; until that is tested against the Arc charts it is refused, naming what to install.
        """
        try:
            result = self._execute(["version", "--template", "{{.Version}}"], with_connection=False)
            self.version = parse_version(result.stdout)
        except HelmError as exc:
            raise HelmError(
                f"{self.binary} is not helm: `{os.path.basename(self.binary)} version` did not print a helm version "
                f"({exc.message}); {INSTALL_HINT}."
            ) from None
        shown = ".".join(map(str, self.version))
        if self.version[0] != SUPPORTED_MAJOR_VERSION:
            raise HelmError(f"{self.binary} is helm {shown}, which hci.arc_ml does not support; {INSTALL_HINT}.")
        if self.version < MINIMUM_VERSION:
            raise HelmError(f"{self.binary} is helm {shown}, older than 3.8; {INSTALL_HINT}.")
        return self.version

    def run(self, args, values=None, timeout=DEFAULT_PROCESS_TIMEOUT, json_output=False):
        """Run `helm <args>` with the connection flags; `values` (a dict) goes in as a 0600 values file.

        Returns the parsed JSON when `json_output`, else a HelmResult. Raises HelmError on a non-zero exit.
        """
        args = list(args)
        if json_output:
            args += ["--output", "json"]
        result = self._execute(args, values=values, timeout=timeout)
        if not json_output:
            return result
        try:
            return json.loads(result.stdout) if result.stdout.strip() else None
        except ValueError:
            raise HelmError(f"helm {args[0]} printed output that is not JSON: {self._quote(result.stdout)}") from None

    def list_releases(self, name=None, namespace=None):
        """Releases in every state (`helm list -a`), in all namespaces unless `namespace`; optionally one name."""
        args = ["list", "--all"]
        args += ["--namespace", namespace] if namespace else ["--all-namespaces"]
        if name:
            args += ["--filter", f"^{re.escape(name)}$"]
        return self.run(args, json_output=True) or []

    def upgrade_install(
        self,
        release,
        chart,
        namespace,
        values=None,
        version=None,
        wait=True,
        timeout=600,
        create_namespace=True,
        extra_args=(),
    ):
        """`helm upgrade --install`; returns the release_summary() of the release."""
        args = ["upgrade", release, chart, "--install", "--namespace", namespace]
        if version:
            args += ["--version", version]
        if create_namespace:
            args.append("--create-namespace")
        if wait:
            args += ["--wait", "--timeout", f"{int(timeout)}s"]
        args += list(extra_args)
        release_json = self.run(args, values=values, timeout=int(timeout) + PROCESS_GRACE_SECONDS, json_output=True)
        return release_summary(release_json)

    def uninstall(self, release, namespace, no_hooks=False, wait=True, timeout=300):
        """`helm uninstall`; False when there was no such release."""
        args = ["uninstall", release, "--namespace", namespace]
        if no_hooks:
            args.append("--no-hooks")
        if wait:
            args += ["--wait", "--timeout", f"{int(timeout)}s"]
        try:
            self.run(args, timeout=int(timeout) + PROCESS_GRACE_SECONDS)
        except HelmError as exc:
            if "not found" in exc.message:
                return False
            raise
        return True

    def _execute(self, args, values=None, timeout=DEFAULT_PROCESS_TIMEOUT, with_connection=True):
        scratch = private_directory("helm-")
        try:
            argv = [self.binary, *args]
            if with_connection:
                argv += self._connection_flags()
            if values is not None:
                argv += ["--values", write_private_file(os.path.join(scratch, "values.json"), json.dumps(values))]
            try:
                completed = self._run_process(
                    argv,
                    env=self._environment(),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise HelmError(f"helm {args[0]} did not finish within {timeout}s and was stopped.") from None
            except OSError as exc:
                raise HelmError(f"Cannot run {self.binary}: {exc.strerror or exc}") from None
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if completed.returncode != 0:
            output = self._quote(completed.stderr or completed.stdout)
            raise HelmError(f"helm {args[0]} failed (exit {completed.returncode}): {output}", rc=completed.returncode)
        return HelmResult(completed.returncode, completed.stdout, completed.stderr)

    def _connection_flags(self):
        # The document names one context, current: helm needs no --kube-context, CA or TLS flag of its own.
        return ["--kubeconfig", self.connection.kubeconfig_path()]

    def _environment(self):
        return {name: value for name, value in self._environ.items() if name in _PASSED_ENVIRONMENT}

    def _quote(self, text):
        """helm's output for a message: secrets masked, the Error line first, one line."""
        text = redact(text or "", [*self._secrets, *self.connection.secrets])
        error_lines = [line for line in text.splitlines() if line.startswith("Error")]
        return one_line(error_lines[0] if error_lines else text, limit=500) or "no output"

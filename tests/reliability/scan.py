"""The reliability suite's secret scan: every secret the sandbox knows, looked for everywhere a run leaves a trace.

What is looked for (`known_secrets`):
- the sandbox's secret registry, `<sandbox>/azure/secrets.jsonl` (sandbox/emulator/secrets_registry.py), where
  each secret is written the moment it exists: the principals' client secrets, Relay keys and the connection
  strings built from them, the protected settings of every extension PUT/PATCH body, every access token the
  emulator issues (the emulator), the onboarding private keys the stand-in Arc agents are given (the agents),
  and the client keys of the kubeconfigs the suite writes (the harness, `register_kubeconfig_key`);
- any JWT, any base64-encoded JWT and any `Bearer <token>`, registered or not.

Where (`RunScan`, one per ansible-playbook run of the RelSandbox harness):
- output: the run's stdout and stderr at -vvvv;
- record file: the results the record callback wrote;
- temp files: every file left under the run's own TMPDIR (ansible-playbook runs with TMPDIR,
  ANSIBLE_LOCAL_TEMP and ANSIBLE_REMOTE_TEMP inside it) and in any of the collection's scratch directories
  (`hci-arc-ml-XXXXXXXX`) made in the system temp directory during the run. Only secrets count here: that a
  file is left at all is another test's concern. A run ended by SIGKILL leaves what nobody can remove; its temp
  hits are kept (`RunScan.killed_leftovers`), not failed;
- process arguments: /proc/<pid>/cmdline of the run's process tree (ansible-playbook, its workers, the module
  processes, helm, kubectl and whatever a task runs), sampled every SAMPLE_INTERVAL seconds while the run goes,
  and the command line of every helm and kubectl call, noted by a shim put first on the run's PATH (a call
  shorter than the interval is not missed);
- helm environment: /proc/<pid>/environ of the helm and kubectl processes, and the environment each shim call
  saw. Other processes are not checked for their environment: ansible-playbook and the modules get the
  client secret from env.sh on purpose;
- the Azure token cache (module_utils/_azure/token_cache.py), in the run's own XDG_CACHE_HOME: access tokens are
  what it is for, so they are allowed there and nowhere else; it must hold no other secret (client secret,
  password, key, refresh token, a token the emulator did not issue), and its directory must be the user's alone
  (mode 0700) and each of its files too (mode 0600, owned by the user running the suite).

A hit names its place and the secret's origin, with an excerpt of what came before it; the secret itself is
never printed.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import shutil
import stat
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from bench.measure import tree_pids
from sandbox.emulator.secrets_registry import SecretRegistry, read_secrets

# Short enough for any module process or task command; helm and kubectl calls, often shorter, go through the shims.
SAMPLE_INTERVAL = 0.1
SHIMMED = ("helm", "kubectl")
# The collection's private scratch directories as tempfile.mkdtemp names them (prefix, 8 random characters):
# module_utils/_common/scratch.py, and the helm and chart directories inside or beside it.
SCRATCH_NAME = re.compile(r"hci-arc-ml-(?:helm-|chart-)?[a-z0-9_]{8}")
MAX_FILE_BYTES = 32 * 1024 * 1024
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
# base64 of a JWT: "eyJ" encodes to "ZXlK".
BASE64_JWT = re.compile(r"ZXlK[A-Za-z0-9+/]{40,}={0,2}")
# RFC 6750 b64token; a token has digits, which keeps "Bearer authorization_uri=..." challenges out.
BEARER = re.compile(r"\bBearer\s+(?=[A-Za-z0-9._~+/-]*\d)[A-Za-z0-9._~+/-]{20,}=*")
PATTERNS = ((JWT, "a JWT"), (BASE64_JWT, "a base64-encoded JWT"), (BEARER, "a bearer token"))
BASE64_TEXT = re.compile(r"[A-Za-z0-9+/]{24,}={0,2}")
# Lines of a PEM body shorter than this are the last line of a key: too short to name a secret on their own.
MIN_PEM_LINE = 16
# The token cache under an XDG_CACHE_HOME, and the registry origin of what it may hold (sandbox/emulator/auth.py).
TOKEN_CACHE = ("hci-arc-ml", "azure-tokens")
ACCESS_TOKEN_ORIGIN = "access token of "
REFRESH_TOKEN = re.compile(r"refresh.?token", re.IGNORECASE)


@dataclass(frozen=True)
class Hit:
    place: str
    origin: str
    excerpt: str

    def __str__(self):
        return f"{self.place}: {self.origin}: {self.excerpt}"


# What is looked for


def registry_path(sandbox_dir: Path) -> Path:
    return SecretRegistry.in_directory(Path(sandbox_dir) / "azure").path


def known_secrets(sandbox_dir: Path) -> dict:
    """{secret: origin}: the sandbox's secret registry."""
    return read_secrets(registry_path(sandbox_dir))


def register_kubeconfig_key(sandbox_dir: Path, key_pem, origin: str) -> None:
    """The harness's own secrets (client keys of the kubeconfigs it writes) go to the same registry."""
    text = key_pem.decode() if isinstance(key_pem, bytes) else key_pem
    SecretRegistry(registry_path(sandbox_dir)).record_secret(text.strip(), origin)


def _forms(secret: str):
    """The ways a secret may appear: as is, JSON-escaped, base64, URL-quoted; each long line of a PEM; and the
    same of what it decodes to when it is base64 of text (a kubeconfig's client-key-data)."""
    yield from _plain_forms(secret)
    decoded = _b64decode(secret) if BASE64_TEXT.fullmatch(secret) else ""
    if (len(decoded) >= MIN_PEM_LINE and decoded.isprintable()) or "-----BEGIN" in decoded:
        yield from _plain_forms(decoded.strip())


def _plain_forms(secret: str):
    yield secret
    escaped = json.dumps(secret)[1:-1]
    if escaped != secret:
        yield escaped
    yield base64.b64encode(secret.encode()).decode()
    quoted = quote(secret, safe="")
    if quoted != secret:
        yield quoted
    if "\n" in secret:
        for line in secret.splitlines():
            if len(line) >= MIN_PEM_LINE and not line.startswith("-----"):
                yield line


def find_secrets(text: str, secrets: dict) -> list:
    """[(origin, masked excerpt)] for each secret of `secrets` ({value: origin}) in `text`, and each token."""
    hits, found = [], set()
    for secret, origin in secrets.items():
        for form in _forms(secret):
            index = text.find(form)
            if index >= 0:
                hits.append((origin, _excerpt(text, index, len(form))))
                found.add(secret)
                break
    for pattern, what in PATTERNS:
        for match in pattern.finditer(text):
            token = match.group(0).split()[-1]
            if token in found or _b64decode(token) in found:
                continue  # a registered token, reported above with its origin
            hits.append((f"{what} (not in the registry)", _excerpt(text, match.start(), len(match.group(0)))))
    return hits


def _b64decode(text: str) -> str:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True).decode()
    except ValueError:  # not base64, or not text
        return ""


def _excerpt(text, index, length):
    """What came before a secret, any long value in it masked too, and the secret's length."""
    before = text[max(0, index - 60) : index].replace("\n", " ")
    before = re.sub(r"[A-Za-z0-9+/=_%.-]{24,}", "<long value>", before)
    return f"...{before}<SECRET {length} chars>..."


# Where it is looked for


def _read_proc(pid: int, name: str) -> bytes | None:
    try:
        with open(f"/proc/{pid}/{name}", "rb") as handle:
            return handle.read()
    except OSError:  # gone, or not ours to read
        return None


def _shimmed(argv: list) -> bool:
    # A shim runs as `/bin/sh <shim> args` before it execs the real binary: look at the first two words.
    return any(os.path.basename(word) in SHIMMED for word in argv[:2])


class ProcessSampler(threading.Thread):
    """Samples the command lines (and helm's and kubectl's environments) of a process tree until stopped."""

    def __init__(self, root: int, interval: float = SAMPLE_INTERVAL):
        super().__init__(daemon=True, name=f"secret-scan-{root}")
        self.root, self.interval = root, interval
        self.cmdlines = {}  # text -> description
        self.environs = {}
        self.samples = 0
        self._seen = set()
        self._halt = threading.Event()

    def run(self):
        while True:
            self.sample()
            if self._halt.wait(self.interval):
                break
        self.sample()

    def sample(self):
        self.samples += 1
        for pid in tree_pids(self.root):
            raw = _read_proc(pid, "cmdline")
            if not raw or (pid, raw) in self._seen:
                continue
            self._seen.add((pid, raw))
            argv = raw.rstrip(b"\0").decode("utf-8", "replace").split("\0")
            name = os.path.basename(argv[0])
            self.cmdlines.setdefault(" ".join(argv), f"process arguments ({name}, pid {pid})")
            if _shimmed(argv):
                environ = _read_proc(pid, "environ")
                if environ:
                    text = environ.decode("utf-8", "replace").replace("\0", "\n")
                    self.environs.setdefault(text, f"environment of {name} (pid {pid})")

    @property
    def processes_seen(self) -> int:
        return len(self._seen)

    def stop(self):
        self._halt.set()
        self.join(timeout=10)


def write_shims(directory: Path, path_variable: str) -> str:
    """helm and kubectl shims in `directory/bin` that note each call's arguments and environment in
    `directory/calls` and exec the real binary; returns the PATH that puts them first."""
    bin_dir, calls = directory / "bin", directory / "calls"
    bin_dir.mkdir(parents=True, exist_ok=True)
    calls.mkdir(mode=0o700, exist_ok=True)
    for name in SHIMMED:
        real = shutil.which(name, path=path_variable)
        if real is None:
            continue
        shim = bin_dir / name
        shim.write_text(
            "#!/bin/sh\n"
            "# tests/reliability/scan.py: note this call's arguments and environment, then run the real binary.\n"
            "umask 077\n"
            f"printf '%s\\n' \"$*\" >> {shlex.quote(str(calls))}/argv.{name}.$$\n"
            f"env >> {shlex.quote(str(calls))}/env.{name}.$$\n"
            f'exec {shlex.quote(real)} "$@"\n'
        )
        shim.chmod(0o700)
    return f"{bin_dir}{os.pathsep}{path_variable}"


def _shim_calls(calls: Path) -> list:
    """[(text, place)] of what the shims noted."""
    texts = []
    for path in sorted(calls.glob("*")) if calls.is_dir() else ():
        kind, name, pid = path.name.split(".", 2)
        what = "process arguments" if kind == "argv" else "environment"
        place = f"{what} of {name} (pid {pid}, noted by its shim)"
        texts.append((path.read_text(errors="replace"), place))
    return texts


def _files_under(root: Path):
    for directory, _subdirs, files in os.walk(root):
        for name in files:
            yield Path(directory) / name


def temp_files(run_tmp: Path, since: float) -> list:
    """[(text, place)] of every file under the run's TMPDIR and under the collection's scratch directories in the
    system temp directory changed since `since` (not ansible-test's hci-arc-ml-sanity.* copies of the repository)."""
    roots = [run_tmp]
    system_tmp = Path(tempfile.gettempdir())
    for entry in system_tmp.glob("hci-arc-ml-*"):
        try:
            status = entry.stat()
            if SCRATCH_NAME.fullmatch(entry.name) and status.st_mtime >= since and status.st_uid == os.getuid():
                roots.append(entry)
        except OSError:
            continue
    texts = []
    for root in roots:
        for path in [root] if root.is_file() else _files_under(root):
            try:
                with open(path, "rb") as handle:
                    data = handle.read(MAX_FILE_BYTES)
            except OSError:
                continue
            text = f"{path.name}\n" + data.decode("utf-8", "replace")
            texts.append((text, f"file left in a temp directory ({path})"))
    return texts


def token_cache_hits(cache_home: Path, secrets: dict) -> list:
    """Hits in the token cache under `cache_home`: a directory or file others could read, or a secret other than
    an access token the emulator issued (each of those is taken out of the text before it is scanned)."""
    directory = Path(cache_home).joinpath(*TOKEN_CACHE)
    if not directory.exists():
        return []
    hits = _private_hits(directory, 0o700, "token cache directory")
    access_tokens = [secret for secret, origin in secrets.items() if origin.startswith(ACCESS_TOKEN_ORIGIN)]
    others = {secret: origin for secret, origin in secrets.items() if secret not in access_tokens}
    for path in sorted(directory.iterdir()):
        place = f"token cache file ({path})"
        hits += _private_hits(path, 0o600, "token cache file")
        text = path.read_text(errors="replace") if path.is_file() and not path.is_symlink() else ""
        for token in access_tokens:
            text = text.replace(token, "<access token>")
        hits += [Hit(place, origin, excerpt) for origin, excerpt in find_secrets(text, others)]
        match = REFRESH_TOKEN.search(text)
        if match:
            hits.append(Hit(place, "a refresh token field", _excerpt(text, match.start(), len(match.group(0)))))
    return hits


def _private_hits(path: Path, mode: int, what: str) -> list:
    status = path.lstat()
    actual = stat.S_IMODE(status.st_mode)
    if status.st_uid == os.geteuid() and actual == mode and not stat.S_ISLNK(status.st_mode):
        return []
    problem = f"{what} with mode {actual:04o}, owner uid {status.st_uid}{' (a symlink)' if path.is_symlink() else ''}"
    return [Hit(f"{what} ({path})", problem, f"must be mode {mode:04o} and owned by uid {os.geteuid()}")]


@dataclass
class RunScan:
    """The secret scan of one run: prepares its environment, samples its processes, scans what it left."""

    sandbox_dir: Path
    directory: Path  # <work>/<label>.scan: the run's TMPDIR and the shims
    started: float = field(default_factory=time.time)
    sampler: ProcessSampler | None = None
    secrets_checked: int = 0
    processes_seen: int = 0
    killed_leftovers: list = field(default_factory=list)

    @classmethod
    def prepare(cls, sandbox_dir: Path, work: Path, label: str) -> RunScan:
        directory = work / f"{label}.scan"
        shutil.rmtree(directory, ignore_errors=True)
        (directory / "tmp").mkdir(parents=True, mode=0o700)
        return cls(Path(sandbox_dir), directory)

    @property
    def tmp(self) -> Path:
        return self.directory / "tmp"

    @property
    def cache_home(self) -> Path:
        """The run's XDG_CACHE_HOME, so that its token cache is the run's own and is scanned after it."""
        return self.directory / "xdg-cache"

    def environment(self, path_variable: str) -> dict:
        """What the run's environment gets: its own temp and cache directories, the shims first on PATH."""
        return {
            "TMPDIR": str(self.tmp),
            "XDG_CACHE_HOME": str(self.cache_home),
            "ANSIBLE_LOCAL_TEMP": str(self.tmp / "ansible-local"),
            "ANSIBLE_REMOTE_TEMP": str(self.tmp / "ansible-remote"),
            "PATH": write_shims(self.directory, path_variable),
        }

    def watch(self, pid: int) -> None:
        self.sampler = ProcessSampler(pid)
        self.sampler.start()

    def stop(self) -> None:
        if self.sampler is not None:
            self.sampler.stop()

    def hits(self, argv: list, output: str, records: str, killed: bool = False, extra_secrets=None) -> list:
        """Every Hit of the run; a killed run's temp hits go to `killed_leftovers` instead."""
        secrets = {**(extra_secrets or {}), **known_secrets(self.sandbox_dir)}
        self.secrets_checked = len(secrets)
        places = [(output, "output"), (records, "record file")]
        places.append((" ".join(argv), "process arguments (ansible-playbook)"))
        if self.sampler is not None:
            self.processes_seen = self.sampler.processes_seen
            places += [(text, place) for text, place in self.sampler.cmdlines.items()]
            places += [(text, place) for text, place in self.sampler.environs.items()]
        places += _shim_calls(self.directory / "calls")
        found = _hits(places, secrets) + token_cache_hits(self.cache_home, secrets)
        leftovers = _hits(temp_files(self.tmp, self.started), secrets)
        if killed:
            self.killed_leftovers = leftovers
        else:
            found += leftovers
        # What the shims noted holds whatever leaked: it does not stay on disk.
        shutil.rmtree(self.directory / "calls", ignore_errors=True)
        return found


def _hits(places: list, secrets: dict) -> list:
    return [Hit(place, origin, excerpt) for text, place in places for origin, excerpt in find_secrets(text, secrets)]


def report(label: str, hits: list) -> str:
    lines = [f"{label}: {len(hits)} secret(s) where none may be:"]
    lines += [f"  - {hit}" for hit in hits[:10]]
    return "\n".join(lines)

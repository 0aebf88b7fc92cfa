# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The access tokens and cloud metadata that the module processes of a run share (the `token_cache` option).

Every task is a process of its own, and each one used to read the cloud's `/metadata/endpoints` and sign in to
Entra ID again. This cache lets the first process of a run do both and the others reuse what it got.

Where: `$XDG_CACHE_HOME/hci-arc-ml/azure-tokens/` (else `~/.cache/...`), a directory of mode 0700 holding
`cache.json` (mode 0600) and `cache.lock`. What: access tokens with their expiry, and the metadata documents
of custom clouds. Never a refresh token, a client secret, a password or a certificate.

How a token is found: its key is a SHA-256 of the cloud (ARM and login endpoints), tenant, client id, user
name, credential kind, scope and a PBKDF2 hash of the secret, password or certificate file (with the cache
file's own random salt), so a caller who does not hold the same secret never gets the token, and a rotated
secret misses. A token is handed out only while it has more than TOKEN_MARGIN_SECONDS left, the window in which
azure-core's BearerTokenCredentialPolicy asks for a new one anyway
(https://github.com/Azure/azure-sdk-for-python/blob/main/sdk/core/azure-core/azure/core/pipeline/policies/_authentication.py).
A metadata document is reused for METADATA_TTL_SECONDS and checked again by the caller every time it is read.

Several processes at once: reads need no lock (the file is replaced whole, with os.replace); a process that
misses takes the lock, looks again, and only then asks Azure, so that the processes that started with it wait
for its answer instead of asking too. A file that is not a regular file of ours with mode 0600, or that does
not parse, is ignored and replaced on the next write. Any failure of the cache itself leaves the task to ask
Azure as it would without it.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import stat
import tempfile
import time
from dataclasses import dataclass, field

from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import import_optional

CACHE_SUBDIRECTORY = os.path.join("hci-arc-ml", "azure-tokens")
CACHE_FILE = "cache.json"
LOCK_FILE = "cache.lock"
FORMAT_VERSION = 1
TOKEN_MARGIN_SECONDS = 300
# An Entra ID access token lasts 60 to 90 minutes, a managed identity's up to 24 hours: nothing is kept longer.
MAX_TOKEN_SECONDS = 24 * 3600
METADATA_TTL_SECONDS = 3600
# How long a process waits for another one that is asking Azure, before it asks on its own.
LOCK_TIMEOUT_SECONDS = 60.0
LOCK_POLL_MAX_SECONDS = 0.2
MAX_TOKENS = 64
MAX_FILE_BYTES = 1024 * 1024
SALT_BYTES = 16
# PBKDF2-HMAC-SHA256 (available in FIPS mode, unlike scrypt): about 0.2 s, paid once per module process.
KDF_ITERATIONS = 200_000


@dataclass(frozen=True)
class TokenOwner:
    """Whose token it is: the identity that asks, and `proof`, what only that identity holds (never stored)."""

    resource_manager: str
    login_endpoint: str
    tenant: str
    client_id: str
    kind: str
    username: str = ""
    proof: bytes = field(default=b"", repr=False)


def cache_directory(environ=None):
    """$XDG_CACHE_HOME/hci-arc-ml/azure-tokens, else ~/.cache/...; None when neither names a directory."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        # The XDG base directory specification: a relative path is invalid and must be ignored.
        home = os.path.expanduser("~")
        if not os.path.isabs(home):
            return None
        base = os.path.join(home, ".cache")
    return os.path.join(base, CACHE_SUBDIRECTORY)


def open_cache(environ=None):
    """The TokenCache of this user, or None when its directory cannot be made private to the user."""
    directory = cache_directory(environ)
    if directory is None or not _private_directory(directory):
        return None
    return TokenCache(directory)


def _private_directory(directory):
    """Create `directory` with mode 0700, or make it 0700 when it is ours; False when it is not ours."""
    try:
        os.makedirs(os.path.dirname(directory), exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.mkdir(directory, 0o700)
        status = os.lstat(directory)
        if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.geteuid():
            return False
        if stat.S_IMODE(status.st_mode) != 0o700:
            os.chmod(directory, 0o700)
        return True
    except OSError:
        return False


class TokenCache:
    """The cache file in `directory` (see the module notes)."""

    def __init__(self, directory):
        self.directory = directory
        self.path = os.path.join(directory, CACHE_FILE)
        self._lock_path = os.path.join(directory, LOCK_FILE)
        self._derived = {}

    # Cloud metadata

    def cloud(self, url, fetch_json, accept):
        """`accept(document)` of the metadata at `url`: a cached document while fresh, else `fetch_json(url)`.

        `accept` checks the document (it raises to refuse it) and returns what the caller makes of it. It runs
        on a cached document too, and a document it refuses is not kept.
        """
        document = self._metadata(self._load(), url)
        if document is not None:
            return accept(document)
        with self._locked() as locked:
            document = self._metadata(self._load(), url) if locked else None
            if document is not None:
                return accept(document)
            document = fetch_json(url)
            accepted = accept(document)
            if locked:
                self._update(lambda state: _put_metadata(state, url, document))
            return accepted

    @staticmethod
    def _metadata(state, url):
        entry = (state or {}).get("metadata", {}).get(url)
        if not isinstance(entry, dict) or not isinstance(entry.get("expires_at"), int):
            return None
        fresh = time.time() < entry["expires_at"] <= time.time() + METADATA_TTL_SECONDS
        return entry.get("document") if fresh else None

    # Access tokens

    def token(self, owner, scope, fetch):
        """(token, expires_on) of `owner` for `scope` with more than TOKEN_MARGIN_SECONDS left, else `fetch()`'s."""
        found = self._token(self._load(), owner, scope)
        if found is not None:
            return found
        with self._locked() as locked:
            found = self._token(self._load(), owner, scope) if locked else None
            if found is not None:
                return found
            token, expires_on = fetch()
            if locked and _usable(expires_on):
                self._update(lambda state: self._put_token(state, owner, scope, token, expires_on))
            return token, expires_on

    def _token(self, state, owner, scope):
        if state is None:
            return None
        entry = state["tokens"].get(self._key(state, owner, scope))
        if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
            return None
        expires_on = entry.get("expires_on")
        return (entry["token"], expires_on) if isinstance(expires_on, int) and _usable(expires_on) else None

    def _put_token(self, state, owner, scope, token, expires_on):
        state["tokens"][self._key(state, owner, scope)] = {
            "token": token,
            "expires_on": min(int(expires_on), int(time.time()) + MAX_TOKEN_SECONDS),
        }

    def _key(self, state, owner, scope):
        proof = self._proof(state["salt"], owner.proof)
        identity = [
            FORMAT_VERSION,
            owner.resource_manager.rstrip("/").lower(),
            owner.login_endpoint.rstrip("/").lower(),
            owner.tenant.lower(),
            owner.client_id.lower(),
            owner.username.lower(),
            owner.kind,
            scope,
            proof,
        ]
        return hashlib.sha256(json.dumps(identity).encode()).hexdigest()

    def _proof(self, salt, secret):
        """The slow salted hash of `secret`, derived once per process and salt."""
        if (salt, secret) not in self._derived:
            derived = hashlib.pbkdf2_hmac("sha256", secret, base64.b64decode(salt), KDF_ITERATIONS)
            self._derived[salt, secret] = derived.hex()
        return self._derived[salt, secret]

    # The file

    def _load(self):
        """The cache's content, or None when there is none that can be trusted."""
        try:
            descriptor = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return None
        with os.fdopen(descriptor, "rb") as handle:
            try:
                status = os.fstat(handle.fileno())
                if not _private_file(status):
                    return None
                data = handle.read(MAX_FILE_BYTES + 1)
            except OSError:
                return None
        if len(data) > MAX_FILE_BYTES:
            return None
        try:
            return _valid(json.loads(data))
        except (ValueError, UnicodeDecodeError):
            return None

    def _update(self, change):
        """Apply `change(state)` to the current content (a new one if there is none) and write it; we hold the lock."""
        state = self._load() or _new_state()
        change(state)
        _prune(state)
        # A full disk or a read-only home costs the next process a sign-in, nothing more.
        with contextlib.suppress(OSError):
            self._save(state)

    def _save(self, state):
        # mkstemp creates the file with mode 0600; os.replace swaps it in whole, so a reader sees old or new.
        descriptor, temporary = tempfile.mkstemp(dir=self.directory, prefix=".cache-", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(state, handle, separators=(",", ":"))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    @contextlib.contextmanager
    def _locked(self):
        """Hold the cache's lock: yields True, or False when it could not be had within LOCK_TIMEOUT_SECONDS."""
        try:
            descriptor = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError:
            yield False
            return
        try:
            yield _acquire(descriptor, time.monotonic() + LOCK_TIMEOUT_SECONDS)
        finally:
            os.close(descriptor)  # releases the lock


class CachedCredential:
    """A TokenCredential that asks Entra ID (through the credential `build()` returns) only on a cache miss.

    The credential is built on the first miss, so a process that finds its token in the cache never loads
    azure-identity. A request with claims (a Continuous Access Evaluation challenge), for another tenant or
    for several scopes always goes to the credential.
    """

    def __init__(self, build, cache, owner):
        self._build = build
        self._credential = None
        self._cache = cache
        self._owner = owner

    @property
    def credential(self):
        if self._credential is None:
            self._credential = self._build()
        return self._credential

    def get_token(self, *scopes, **kwargs):
        if not self._cacheable(scopes, kwargs):
            return self.credential.get_token(*scopes, **kwargs)
        token, expires_on = self._cache.token(self._owner, scopes[0], lambda: self._fetch(scopes[0]))
        return import_optional("azure.core.credentials", "azure-core").AccessToken(token, expires_on)

    def _cacheable(self, scopes, kwargs):
        tenant = kwargs.get("tenant_id")
        plain = set(kwargs) <= {"claims", "tenant_id", "enable_cae"} and not kwargs.get("claims")
        return plain and len(scopes) == 1 and not kwargs.get("enable_cae") and tenant in (None, "", self._owner.tenant)

    def _fetch(self, scope):
        access_token = self.credential.get_token(scope)
        return access_token.token, int(access_token.expires_on)

    def close(self):
        if self._credential is not None and hasattr(self._credential, "close"):
            self._credential.close()


def _put_metadata(state, url, document):
    state["metadata"][url] = {"document": document, "expires_at": int(time.time()) + METADATA_TTL_SECONDS}


def _usable(expires_on):
    return int(expires_on) - time.time() > TOKEN_MARGIN_SECONDS


def _private_file(status):
    """A regular file of this user that nobody else can read or write."""
    return stat.S_ISREG(status.st_mode) and status.st_uid == os.geteuid() and not status.st_mode & 0o077


def _new_state():
    salt = base64.b64encode(os.urandom(SALT_BYTES)).decode()
    return {"version": FORMAT_VERSION, "salt": salt, "tokens": {}, "metadata": {}}


def _valid(state):
    """`state` when it has the shape this version writes, else None."""
    if not isinstance(state, dict) or state.get("version") != FORMAT_VERSION:
        return None
    try:
        salt = base64.b64decode(state.get("salt", ""), validate=True)
    except (ValueError, TypeError):
        return None
    if len(salt) != SALT_BYTES or not isinstance(state.get("tokens"), dict):
        return None
    if not isinstance(state.get("metadata"), dict):
        return None
    return state


def _prune(state):
    """Drop what can no longer be handed out; keep the MAX_TOKENS tokens that last longest."""
    now = time.time()
    tokens = {
        key: entry
        for key, entry in state["tokens"].items()
        if isinstance(entry, dict) and isinstance(entry.get("expires_on"), int) and _usable(entry["expires_on"])
    }
    kept = sorted(tokens, key=lambda key: tokens[key]["expires_on"], reverse=True)[:MAX_TOKENS]
    state["tokens"] = {key: tokens[key] for key in kept}
    state["metadata"] = {
        url: entry
        for url, entry in state["metadata"].items()
        if isinstance(entry, dict) and isinstance(entry.get("expires_at"), int) and entry["expires_at"] > now
    }


def _acquire(descriptor, deadline):
    """flock(LOCK_EX) on `descriptor`, polling so that the wait ends at `deadline` (flock itself has no timeout)."""
    pause = 0.01
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, LOCK_POLL_MAX_SECONDS)
        except OSError:
            return False

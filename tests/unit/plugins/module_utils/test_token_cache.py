"""The token cache the module processes of a run share: keys, expiry, file safety, concurrent processes."""

import dataclasses
import fcntl
import json
import multiprocessing
import os
import stat
import time
from pathlib import Path

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._azure import token_cache
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.token_cache import (
    CachedCredential,
    TokenCache,
    TokenOwner,
    cache_directory,
    open_cache,
)

SCOPE = "https://management.sandbox.local/.default"
OWNER = TokenOwner(
    resource_manager="https://127.0.0.1:8443",
    login_endpoint="https://127.0.0.1:8443/login",
    tenant="72f988bf-86f1-41af-91ab-2d7cd011db47",
    client_id="11111111-2222-3333-4444-555555555555",
    kind="client secret",
    proof=b"the-client-secret",
)
PROCESSES = 25
PROCESS_TIMEOUT = 60


@pytest.fixture(autouse=True)
def quick_kdf(monkeypatch):
    """The key derivation's cost is not what these tests are about."""
    monkeypatch.setattr(token_cache, "KDF_ITERATIONS", 1000)


@pytest.fixture
def cache(tmp_path):
    return open_cache({"XDG_CACHE_HOME": str(tmp_path / "xdg")})


class Entra:
    """A token endpoint stand-in: a new token per request, lasting `lifetime` seconds."""

    def __init__(self, lifetime=3600):
        self.lifetime = lifetime
        self.issued = []

    def __call__(self):
        token = f"eyJ.token-{len(self.issued)}"
        self.issued.append(token)
        return token, int(time.time()) + self.lifetime


def cached_file(cache):
    return json.loads(Path(cache.path).read_text())


def test_the_next_process_gets_the_token_without_asking(cache):
    entra = Entra()
    first = cache.token(OWNER, SCOPE, entra)
    again = TokenCache(cache.directory).token(OWNER, SCOPE, entra)
    assert again == first and len(entra.issued) == 1


def test_a_different_secret_for_the_same_client_misses(cache):
    entra = Entra()
    cache.token(OWNER, SCOPE, entra)
    rotated = dataclasses.replace(OWNER, proof=b"the-new-secret")
    token = TokenCache(cache.directory).token(rotated, SCOPE, entra)[0]
    assert token == "eyJ.token-1" and len(entra.issued) == 2


@pytest.mark.parametrize(
    "change",
    [
        {"resource_manager": "https://arm.other.example"},
        {"login_endpoint": "https://login.other.example"},
        {"tenant": "00000000-0000-4000-8000-000000000000"},
        {"client_id": "99999999-2222-3333-4444-555555555555"},
        {"kind": "client certificate"},
        {"username": "ops@contoso.example"},
    ],
)
def test_every_part_of_the_identity_is_in_the_key(cache, change):
    entra = Entra()
    cache.token(OWNER, SCOPE, entra)
    cache.token(dataclasses.replace(OWNER, **change), SCOPE, entra)
    assert len(entra.issued) == 2


def test_another_scope_misses(cache):
    entra = Entra()
    cache.token(OWNER, SCOPE, entra)
    cache.token(OWNER, "https://graph.example/.default", entra)
    assert len(entra.issued) == 2


def test_a_token_is_handed_out_only_while_more_than_the_margin_is_left(cache, monkeypatch):
    entra = Entra(lifetime=token_cache.TOKEN_MARGIN_SECONDS + 60)
    cache.token(OWNER, SCOPE, entra)
    assert cache.token(OWNER, SCOPE, entra)[0] == "eyJ.token-0"
    later = time.time() + 61
    monkeypatch.setattr(token_cache.time, "time", lambda: later)
    assert cache.token(OWNER, SCOPE, entra)[0] == "eyJ.token-1"


def test_a_token_that_is_about_to_expire_is_not_kept(cache):
    entra = Entra(lifetime=token_cache.TOKEN_MARGIN_SECONDS - 1)
    cache.token(OWNER, SCOPE, entra)
    assert not os.path.exists(cache.path)


def test_the_file_holds_the_token_but_no_secret_and_only_we_can_read_it(cache):
    cache.token(OWNER, SCOPE, Entra())
    assert stat.S_IMODE(os.stat(cache.directory).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(cache.path).st_mode) == 0o600
    text = Path(cache.path).read_text()
    assert "eyJ.token-0" in text
    for secret in (OWNER.proof.decode(), OWNER.client_id, OWNER.tenant, "refresh"):
        assert secret not in text
    assert set(cached_file(cache)) == {"version", "salt", "tokens", "metadata"}


def test_the_directory_is_made_private_and_one_that_is_not_ours_is_not_used(tmp_path):
    directory = cache_directory({"XDG_CACHE_HOME": str(tmp_path)})
    os.makedirs(directory, mode=0o755)
    os.chmod(directory, 0o755)  # noqa: S103 -- a directory others can list, which the cache must close
    assert open_cache({"XDG_CACHE_HOME": str(tmp_path)}) is not None
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    os.rmdir(directory)
    os.symlink(tmp_path, directory)
    assert open_cache({"XDG_CACHE_HOME": str(tmp_path)}) is None


def test_a_relative_xdg_cache_home_is_ignored(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_directory({"XDG_CACHE_HOME": "relative"}) == str(tmp_path / ".cache" / "hci-arc-ml" / "azure-tokens")


def plant(cache, text, mode=0o600):
    with open(cache.path, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(cache.path, mode)


@pytest.mark.parametrize("text", ["not json", "[]", '{"version": 1, "salt": "short", "tokens": {}, "metadata": {}}'])
def test_a_corrupt_file_is_ignored_and_replaced(cache, text):
    plant(cache, text)
    entra = Entra()
    cache.token(OWNER, SCOPE, entra)
    assert len(entra.issued) == 1
    assert cached_file(cache)["version"] == token_cache.FORMAT_VERSION


def test_a_file_others_can_read_is_not_trusted_and_is_replaced(cache):
    entra = Entra()
    cache.token(OWNER, SCOPE, entra)
    os.chmod(cache.path, 0o640)
    assert cache.token(OWNER, SCOPE, entra)[0] == "eyJ.token-1"
    assert stat.S_IMODE(os.stat(cache.path).st_mode) == 0o600


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_a_file_of_another_user_is_not_trusted(cache):
    entra = Entra()
    cache.token(OWNER, SCOPE, entra)
    os.chown(cache.path, 65534, 65534)
    assert cache.token(OWNER, SCOPE, entra)[0] == "eyJ.token-1"
    assert os.stat(cache.path).st_uid == os.geteuid()


def test_a_symlink_in_place_of_the_file_is_not_followed(cache, tmp_path):
    entra = Entra()
    cache.token(OWNER, SCOPE, entra)
    elsewhere = tmp_path / "elsewhere.json"
    os.replace(cache.path, elsewhere)
    os.symlink(elsewhere, cache.path)
    assert cache.token(OWNER, SCOPE, entra)[0] == "eyJ.token-1"
    assert not os.path.islink(cache.path)


def test_when_the_lock_cannot_be_had_the_process_asks_itself_and_writes_nothing(cache, monkeypatch):
    monkeypatch.setattr(token_cache, "LOCK_TIMEOUT_SECONDS", 0.05)
    holder = os.open(os.path.join(cache.directory, token_cache.LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        entra = Entra()
        assert cache.token(OWNER, SCOPE, entra)[0] == "eyJ.token-0"
    finally:
        os.close(holder)
    assert not os.path.exists(cache.path)


# Cloud metadata

URL = "https://127.0.0.1:8443/metadata/endpoints?api-version=2022-09-01"
DOCUMENT = {"name": "Sandbox", "authentication": {"loginEndpoint": "https://127.0.0.1:8443/login"}}


class Metadata:
    def __init__(self):
        self.fetched = []

    def __call__(self, url):
        self.fetched.append(url)
        return DOCUMENT


def test_metadata_is_fetched_once_and_checked_on_every_read(cache):
    fetch, checked = Metadata(), []

    def accept(document):
        checked.append(document)
        return document["name"]

    assert cache.cloud(URL, fetch, accept) == "Sandbox"
    assert TokenCache(cache.directory).cloud(URL, fetch, accept) == "Sandbox"
    assert fetch.fetched == [URL] and checked == [DOCUMENT, DOCUMENT]


def test_refused_metadata_is_not_kept(cache):
    fetch = Metadata()

    def refuse(document):
        raise ValueError("refused")

    with pytest.raises(ValueError):
        cache.cloud(URL, fetch, refuse)
    assert cache.cloud(URL, fetch, lambda document: document) == DOCUMENT
    assert len(fetch.fetched) == 2


def test_metadata_is_fetched_again_after_its_time_to_live(cache, monkeypatch):
    fetch = Metadata()
    cache.cloud(URL, fetch, dict)
    later = time.time() + token_cache.METADATA_TTL_SECONDS + 1
    monkeypatch.setattr(token_cache.time, "time", lambda: later)
    cache.cloud(URL, fetch, dict)
    assert len(fetch.fetched) == 2


# The credential in front of azure-identity's


class Credential:
    def __init__(self):
        self.calls = []

    def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken

        self.calls.append((scopes, kwargs))
        return AccessToken(f"eyJ.inner-{len(self.calls)}", int(time.time()) + 3600)


def test_the_credential_is_built_only_on_a_miss(cache):
    built = []

    def build():
        built.append(Credential())
        return built[-1]

    first = CachedCredential(build, cache, OWNER).get_token(SCOPE)
    second = CachedCredential(build, cache, OWNER).get_token(SCOPE)
    assert first.token == second.token == "eyJ.inner-1" and len(built) == 1


@pytest.mark.parametrize(
    "kwargs",
    [{"claims": '{"access_token":{"nbf":{"essential":true}}}'}, {"tenant_id": "another-tenant"}, {"enable_cae": True}],
)
def test_a_challenge_another_tenant_or_cae_goes_to_the_credential(cache, kwargs):
    inner = Credential()
    credential = CachedCredential(lambda: inner, cache, OWNER)
    credential.get_token(SCOPE)
    credential.get_token(SCOPE, **kwargs)
    assert len(inner.calls) == 2 and inner.calls[1] == ((SCOPE,), kwargs)


def test_the_owner_s_own_tenant_is_cached(cache):
    inner = Credential()
    credential = CachedCredential(lambda: inner, cache, OWNER)
    credential.get_token(SCOPE)
    credential.get_token(SCOPE, tenant_id=OWNER.tenant, claims=None, enable_cae=False)
    assert len(inner.calls) == 1


# Concurrent module processes


def _one_process(directory, owner, start, work, latency):
    def sign_in():
        with open(os.path.join(work, "issued"), "a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()}\n")
        # Entra's round trip: long enough that the other processes are waiting for this answer by then.
        time.sleep(latency)
        return f"eyJ.token-of-{os.getpid()}", int(time.time()) + 3600

    start.wait(PROCESS_TIMEOUT)
    token = TokenCache(directory).token(owner, SCOPE, sign_in)[0]
    with open(os.path.join(work, f"got-{os.getpid()}"), "w", encoding="utf-8") as handle:
        handle.write(token)


def run_processes(tmp_path, cache, owners, latency=0.0):
    """Start one forked process per owner at the same moment; [pids that signed in], [tokens each got]."""
    context = multiprocessing.get_context("fork")
    start = context.Barrier(len(owners))
    processes = [
        context.Process(target=_one_process, args=(cache.directory, owner, start, str(tmp_path), latency))
        for owner in owners
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(PROCESS_TIMEOUT)
        assert process.exitcode == 0
    got = [path.read_text() for path in tmp_path.glob("got-*")]
    return (tmp_path / "issued").read_text().split(), got


def test_25_processes_at_once_sign_in_once_and_all_get_that_token(cache, tmp_path):
    issued, got = run_processes(tmp_path, cache, [OWNER] * PROCESSES, latency=0.3)
    assert len(issued) == 1
    assert got == [f"eyJ.token-of-{issued[0]}"] * PROCESSES
    assert stat.S_IMODE(os.stat(cache.path).st_mode) == 0o600


def test_25_processes_with_their_own_credentials_lose_no_token(cache, tmp_path):
    owners = [dataclasses.replace(OWNER, client_id=f"client-{n}") for n in range(PROCESSES)]
    issued = run_processes(tmp_path, cache, owners)[0]
    assert len(issued) == PROCESSES
    assert len(cached_file(cache)["tokens"]) == PROCESSES
    assert [name for name in os.listdir(cache.directory) if name.endswith(".tmp")] == []

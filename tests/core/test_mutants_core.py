"""SecretStore over the real keyring, its session-memory fallback, and the gate's operators and verdict.

Written against the mutation report (docs/mutation.md). The SecretStore tests use the OS keyring of
the test session (``scripts/with-keyring``: a private Secret Service) and read it back through
``keyring`` itself, so a secret left behind or stored under another key is seen.
"""

from __future__ import annotations

import logging
import sys
import types
import uuid

import keyring
import keyring.backend
import keyring.backends.chainer
import keyring.backends.fail
import keyring.backends.null
import keyring.errors
import pytest

from almdesk.base.records import OPERATORS, GateResult, normalize_operator
from almdesk.errors import ConfigError
from almdesk.secrets import SecretStore, default_backend


class LockedKeyring(keyring.backend.KeyringBackend):
    """A keyring that refuses every read, as a locked collection does."""

    priority = 0  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("the collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("the collection is locked")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.KeyringLocked("the collection is locked")


@pytest.fixture
def uid() -> str:
    return f"mut-{uuid.uuid4().hex}"


@pytest.fixture
def os_keyring() -> keyring.backend.KeyringBackend:
    backend = keyring.get_keyring()
    if "fail" in type(backend).__module__:
        pytest.skip("no OS keyring in this session (run under scripts/with-keyring)")
    return backend


def test_secrets_round_trip_through_the_os_keyring(os_keyring: keyring.backend.KeyringBackend, uid: str) -> None:
    store = SecretStore(os_keyring)
    assert store.persistent and store.warning == ""
    store.set(uid, "client_secret", "s3cr3t-value")
    assert os_keyring.get_password("almdesk", f"{uid}/client_secret") == "s3cr3t-value"  # almdesk / <uid>/<field>
    assert SecretStore(os_keyring).get(uid, "client_secret") == "s3cr3t-value"  # a new store reads it: persisted
    assert store.get(uid, "other_field") == ""


def test_delete_removes_the_secret_from_the_os_keyring(os_keyring: keyring.backend.KeyringBackend,
                                                       uid: str) -> None:
    store = SecretStore(os_keyring)
    store.set(uid, "token", "to-be-deleted")
    store.set(uid, "password", "to-be-kept")
    store.delete(uid, "token")
    assert os_keyring.get_password("almdesk", f"{uid}/token") is None
    assert store.get(uid, "token") == ""
    assert store.get(uid, "password") == "to-be-kept"
    store.delete(uid, "token")  # deleting what is not there is fine


def test_backend_name_is_the_keyrings(os_keyring: keyring.backend.KeyringBackend) -> None:
    assert SecretStore(os_keyring).backend_name == os_keyring.name
    assert SecretStore().backend_name == os_keyring.name  # no backend given: keyring's own choice
    chainer = keyring.backends.chainer.ChainerBackend()
    if chainer.backends:  # keyring's chainer over the viable backends: named after its first
        store = SecretStore(chainer)
        assert store.persistent and store.backend_name == chainer.backends[0].name


def test_a_chainer_is_named_after_its_first_backend(os_keyring: keyring.backend.KeyringBackend) -> None:
    class TwoChainer(keyring.backends.chainer.ChainerBackend):
        priority = 0  # type: ignore[assignment]
        backends = [os_keyring, keyring.backends.null.Keyring()]  # type: ignore[assignment]

    store = SecretStore(TwoChainer())
    assert store.persistent and store.backend_name == os_keyring.name != keyring.backends.null.Keyring().name


def test_default_backend_is_keyrings_and_leaves_a_loaded_macos_api_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_backend() is keyring.get_keyring()
    assert "keyring.backends.macOS.api" not in sys.modules or sys.modules["keyring.backends.macOS.api"] is not None
    loaded = types.ModuleType("keyring.backends.macOS.api")
    monkeypatch.setitem(sys.modules, "keyring.backends.macOS.api", loaded)
    assert default_backend() is keyring.get_keyring()
    assert sys.modules["keyring.backends.macOS.api"] is loaded


def test_the_null_keyring_is_no_keyring(uid: str) -> None:
    store = SecretStore(keyring.backends.null.Keyring())
    assert not store.persistent and "No system keyring found" in store.warning
    store.set(uid, "token", "in-memory")
    assert store.get(uid, "token") == "in-memory"


def test_without_a_keyring_secrets_live_in_session_memory_only(uid: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="almdesk.secrets"):
        store = SecretStore(keyring.backends.fail.Keyring())
    assert [r.getMessage() for r in caplog.records] == [store.warning]
    assert not store.persistent
    assert "No system keyring found" in store.warning
    assert store.backend_name == "session memory (no keyring)"
    store.set(uid, "token", "in-memory")
    assert store.get(uid, "token") == "in-memory"
    assert store.get(uid, "other") == ""
    assert SecretStore(keyring.backends.fail.Keyring()).get(uid, "token") == ""  # gone with the session
    store.delete(uid, "token")
    assert store.get(uid, "token") == ""


class EmptyChainer(keyring.backends.chainer.ChainerBackend):
    """keyring's chainer when no viable backend is behind it."""

    priority = 0  # type: ignore[assignment]
    backends: list[keyring.backend.KeyringBackend] = []  # type: ignore[assignment]


def test_an_empty_chainer_is_no_keyring(uid: str) -> None:
    store = SecretStore(EmptyChainer())
    assert not store.persistent and "No system keyring found" in store.warning
    store.set(uid, "token", "in-memory")  # the chainer's fail fallback would raise here
    assert store.get(uid, "token") == "in-memory"


def test_a_locked_keyring_falls_back_to_memory_and_says_so(uid: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="almdesk.secrets"):
        store = SecretStore(LockedKeyring())
    assert [r.getMessage() for r in caplog.records] == [store.warning]
    assert not store.persistent
    assert "cannot be used" in store.warning and "the collection is locked" in store.warning
    store.set(uid, "token", "kept-in-memory")
    assert store.get(uid, "token") == "kept-in-memory"
    store.delete(uid, "token")  # no KeyringLocked: the locked backend is not touched
    assert store.get(uid, "token") == ""


@pytest.mark.parametrize(("op", "count", "threshold", "passed"), [
    ("<", 2, 3, True), ("<", 3, 3, False), ("<=", 3, 3, True), ("<=", 4, 3, False),
    ("=", 3, 3, True), ("=", 2, 3, False), (">=", 3, 3, True), (">=", 2, 3, False),
    (">", 4, 3, True), (">", 3, 3, False),
])
def test_gate_operators_at_the_threshold(op: str, count: int, threshold: int, passed: bool) -> None:
    assert OPERATORS[op](count, threshold) is passed
    result = GateResult(count=count, threshold=threshold, operator=op, query="q")
    assert result.passed is passed
    verdict = "passed" if passed else "failed"
    assert result.message == (f"Gate {verdict}: {count} matching item(s); condition count {op} {threshold}.")


def test_gate_result_defaults() -> None:
    result = GateResult(count=1, threshold=1, operator="<=", query="q")
    assert result.requests == 0 and result.items is None


@pytest.mark.parametrize(("given", "normal"), [
    ("LT", "<="), ("lt", "<="), ("GT", ">="), (" gt ", ">="), ("EQ", "="), ("==", "="), (" < ", "<"),
    ("<=", "<="), ("=", "="), (">=", ">="), (">", ">"),
])
def test_normalize_operator(given: str, normal: str) -> None:
    assert normalize_operator(given) == normal


@pytest.mark.parametrize("bad", ["", "=<", "!=", "LE", "<>", "==="])
def test_unknown_operators_are_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(ConfigError) as err:
        normalize_operator(bad)
    assert err.value.field == "operator"

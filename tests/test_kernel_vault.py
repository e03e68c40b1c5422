"""Secrets at rest: sealed values open only with the key, the key file is private, keys rotate."""

import stat

import pytest
from cryptography.fernet import Fernet
from hypothesis import given, settings
from hypothesis import strategies as st

from microfluence.kernel import vault
from microfluence.kernel.config import get_settings


@pytest.fixture
def key_file(tmp_path, monkeypatch):
    path = tmp_path / "keys" / "secrets.key"
    monkeypatch.delenv("MICROFLUENCE_SECRETS_KEY", raising=False)
    monkeypatch.setenv("MICROFLUENCE_SECRETS_KEY_FILE", str(path))
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def test_the_key_file_is_made_private_and_sealed_text_hides_the_secret(key_file):
    sealed = vault.seal("ya29.a0-access-token")
    assert "ya29" not in sealed
    assert vault.unseal(sealed) == "ya29.a0-access-token"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert vault.unseal(sealed) == "ya29.a0-access-token"  # the same key is read again


def test_a_foreign_key_or_an_altered_value_is_refused(key_file, monkeypatch):
    sealed = vault.seal("secret")
    altered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(vault.VaultError, match="altered"):
        vault.unseal(altered)
    monkeypatch.setenv("MICROFLUENCE_SECRETS_KEY", Fernet.generate_key().decode())
    get_settings.cache_clear()
    with pytest.raises(vault.VaultError, match="another key"):
        vault.unseal(sealed)


def test_keys_rotate_the_first_seals_and_each_opens(key_file, monkeypatch):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("MICROFLUENCE_SECRETS_KEY", old)
    get_settings.cache_clear()
    sealed = vault.seal("refresh-token")
    monkeypatch.setenv("MICROFLUENCE_SECRETS_KEY", f"{new},{old}")
    get_settings.cache_clear()
    assert vault.unseal(sealed) == "refresh-token"
    resealed = vault.reseal(sealed)
    monkeypatch.setenv("MICROFLUENCE_SECRETS_KEY", new)
    get_settings.cache_clear()
    assert vault.unseal(resealed) == "refresh-token"
    with pytest.raises(vault.VaultError):
        vault.unseal(sealed)


def test_a_malformed_key_is_named(key_file, monkeypatch):
    monkeypatch.setenv("MICROFLUENCE_SECRETS_KEY", "not-a-fernet-key")
    get_settings.cache_clear()
    with pytest.raises(vault.VaultError, match="MICROFLUENCE_SECRETS_KEY"):
        vault.seal("x")


@settings(max_examples=60, deadline=None)
@given(text=st.text())
def test_any_text_comes_back_whole(text):
    assert vault.unseal(vault.seal(text)) == text

"""Ed25519 signatures over a run's seal (the `cryptography` package), so a re-chained run fails `verify --key`."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class KeyError_(ValueError):
    """A key file cannot be used; the message is one line naming it."""


def generate(private_path: Path) -> Path:
    """Write a new private key (PEM, mode 0600) and its public key beside it (`.pub`); returns the .pub path."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    pub_path = private_path.with_name(private_path.name + ".pub")
    pub_path.write_bytes(public_pem(key.public_key()))
    return pub_path


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KeyError_(f"{path}: cannot read the key ({exc.strerror})") from None


def load_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(_read(path), password=None)
    except (ValueError, TypeError):
        raise KeyError_(f"{path}: not an unencrypted PEM private key (make one with: tuiding keygen KEYFILE)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyError_(f"{path}: not an Ed25519 key (make one with: tuiding keygen KEYFILE)")
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    data = _read(path)
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        try:  # a private key also names its public half
            return load_private(path).public_key()
        except KeyError_:
            raise KeyError_(f"{path}: not a PEM public key (the .pub file written by tuiding keygen)") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyError_(f"{path}: not an Ed25519 public key")
    return key


def sign(key: object, seal: str) -> tuple[str, str]:
    """(signature hex, public key hex) for the seal."""
    assert isinstance(key, Ed25519PrivateKey)
    raw_pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return key.sign(bytes.fromhex(seal)).hex(), raw_pub.hex()


def check(public: Ed25519PublicKey, seal: str, signature_hex: str) -> bool:
    try:
        public.verify(bytes.fromhex(signature_hex), bytes.fromhex(seal))
    except (InvalidSignature, ValueError):
        return False
    return True

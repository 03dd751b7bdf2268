"""The consortium PKI: a root CA and certificates that bind an identity, a role and a key.

The consortium root CA stands in for the national certification authority (design decision
4). It signs with ECDSA P-256 because gRPC's TLS stack (BoringSSL) does not accept Ed25519
certificates; what it certifies are two kinds of leaf:

- EDS certificates: an Ed25519 public key bound to a person (IIN), an organisation (BIN,
  name) or both (an employee signing for a bank), and one or more roles. Transactions and
  votes are signed with these keys.
- TLS certificates of nodes: an ECDSA P-256 key for the transport, carrying in an extension
  the Ed25519 key the node votes with, so a peer's TLS identity can be matched against the
  validator key it signs with.

Rights belong to IIN/BIN, never to keys: a lost key is revoked (on the ledger, by the
contracts) and a new certificate is bound to the same IIN.

Subject layout, after the Kazakh NCA's: CN = name, serialNumber = "IIN" + 12 digits,
OU = "BIN" + 12 digits, O = organisation. Roles live in a private extension.

May import: node.errors, node.identity, node.interfaces, cryptography. Validity is checked
against a time the caller passes (block time on the ledger): nothing here reads the clock
except the issuing helpers, whose callers pass `now` explicitly too.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import hashlib
from typing import Callable, Iterable

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from node import identity as ids
from node.errors import CertificateRevoked, UntrustedCertificate
from node.interfaces import Credential

# A private arc for Tamga's certificate extensions.
OID_ROLES = x509.ObjectIdentifier("1.3.6.1.4.1.62500.1.1")
OID_VALIDATOR_KEY = x509.ObjectIdentifier("1.3.6.1.4.1.62500.1.2")

ROLES = frozenset(
    {
        "citizen",             # a natural person acting for themself
        "legal_entity",        # an organisation's authorised signatory
        "bank",                # a bank (pledgee) and its information system
        "registrar",           # the registering body (State Corporation) employee
        "senior_registrar",
        "court",
        "bailiff",
        "prosecutor",
        "state_body",          # a body imposing restrictions or prohibitions
        "notary",
        "lawyer",
        "tax_body",
        "law_enforcement",
        "bankruptcy_manager",
        "guardianship_body",
        "auditor",
        "validator",           # an authentication node of the consortium
        "token_issuer",        # issues and redeems the tenge settlement token
        "identity_officer",    # verifies identity for key replacement (lost keys)
        "governance",          # maintains consortium policy and the calendar
    }
)

CERT_CACHE_SIZE = 65536


def fingerprint(der: bytes) -> bytes:
    """SHA-256 of the DER certificate: how Tamga names a certificate."""
    return hashlib.sha256(der).digest()


def _ms(dt: datetime.datetime) -> int:
    return int(dt.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000) if dt.tzinfo is None else int(dt.timestamp() * 1000)


def _dt(ms: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)


def _attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def _ext(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> bytes | None:
    try:
        return cert.extensions.get_extension_for_oid(oid).value.value
    except x509.ExtensionNotFound:
        return None


@functools.lru_cache(maxsize=8)
def verifier_for(ca_cert_pem: bytes) -> "CertificateVerifier":
    """The process's one verifier for this CA: the mempool, the cadastre projection, the API
    and peers share its cache, so a certificate is parsed and checked once per process."""
    return CertificateVerifier(ca_cert_pem)


class CertificateVerifier:
    """Checks that certificates were issued by the consortium CA and reads what they bind.

    Verification of a DER certificate is a pure function of its bytes and the CA, so the
    result is cached by fingerprint; validity periods and revocation depend on the time and
    the ledger state and are checked by the caller on every use (`check`).
    """

    def __init__(self, ca_cert_pem: bytes):
        self.ca_cert = x509.load_pem_x509_certificate(ca_cert_pem)
        self.ca_pem = ca_cert_pem
        key = self.ca_cert.public_key()
        assert isinstance(key, ec.EllipticCurvePublicKey), "the consortium CA key must be ECDSA P-256"
        self._ca_key = key
        self.ca_fingerprint = fingerprint(self.ca_cert.public_bytes(serialization.Encoding.DER))
        self._parse = functools.lru_cache(maxsize=CERT_CACHE_SIZE)(self._parse_uncached)

    def certificates_checked(self) -> int:
        """How many distinct certificates this verifier has parsed and checked against the CA
        (cache misses): what a caller pays ~100 µs for, once per certificate while it stays
        cached."""
        return self._parse.cache_info().misses

    def credential(self, der: bytes, *, tls: bool = False) -> Credential:
        """The credential of a CA-issued certificate; UntrustedCertificate otherwise.

        With tls=True the certificate must be a node's TLS certificate (ECDSA key plus the
        validator key extension); otherwise an EDS certificate with an Ed25519 key."""
        cred, kind = self._parse(bytes(der))
        if kind != ("tls" if tls else "eds"):
            raise UntrustedCertificate(f"certificate of {cred.name} is a {kind} certificate, not a {'tls' if tls else 'eds'} one")
        return cred

    def check(
        self,
        der: bytes,
        time_ms: int,
        is_revoked: Callable[[bytes], bool] | None = None,
        *,
        tls: bool = False,
    ) -> Credential:
        """Credential of `der` if issued by the CA, valid at `time_ms` and not revoked."""
        cred = self.credential(der, tls=tls)
        cred.check_valid_at(time_ms)
        if is_revoked is not None and is_revoked(cred.fingerprint):
            raise CertificateRevoked(f"certificate of {cred.name} (serial {cred.serial}) has been revoked")
        return cred

    def _parse_uncached(self, der: bytes) -> tuple[Credential, str]:
        # cryptography parses lazily: a damaged certificate can load and then fail when a
        # field is read, with ValueError, TypeError, InvalidVersion or UnsupportedAlgorithm.
        # Everything read before the CA signature is checked comes from the sender.
        try:
            cert = x509.load_der_x509_certificate(der)
            issuer = cert.issuer
        except (ValueError, TypeError, x509.InvalidVersion):
            raise UntrustedCertificate("certificate is not valid DER X.509") from None
        if issuer != self.ca_cert.subject:
            raise UntrustedCertificate(f"certificate issued by {issuer.rfc4514_string()}, not by the consortium CA")
        try:
            self._ca_key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        except (InvalidSignature, TypeError, ValueError, UnsupportedAlgorithm):
            raise UntrustedCertificate("certificate signature does not verify against the consortium CA") from None
        try:
            if cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
                raise UntrustedCertificate("a CA certificate cannot sign transactions")
        except x509.ExtensionNotFound:
            pass
        subject = cert.subject
        serial_attr = _attr(subject, NameOID.SERIAL_NUMBER)
        ou = _attr(subject, NameOID.ORGANIZATIONAL_UNIT_NAME)
        try:
            iin = ids.validate_iin(serial_attr[3:]) if serial_attr and serial_attr.startswith("IIN") else None
            bin_ = ids.validate_bin(ou[3:]) if ou and ou.startswith("BIN") else None
        except Exception as exc:
            raise UntrustedCertificate(f"certificate carries an invalid identifier: {exc}") from None
        roles_raw = _ext(cert, OID_ROLES)
        roles = tuple(sorted(set(roles_raw.decode().split(",")))) if roles_raw else ()
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise UntrustedCertificate(f"certificate names unknown role(s) {unknown}")
        pub = cert.public_key()
        validator_key = _ext(cert, OID_VALIDATOR_KEY)
        if isinstance(pub, ed25519.Ed25519PublicKey):
            kind = "eds"
            raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        elif isinstance(pub, ec.EllipticCurvePublicKey) and validator_key is not None:
            kind = "tls"
            raw = validator_key
            if len(raw) != 32:
                raise UntrustedCertificate("TLS certificate's validator key is not 32 bytes")
        else:
            raise UntrustedCertificate("certificate key must be Ed25519 (EDS) or ECDSA with a validator key (TLS)")
        cred = Credential(
            fingerprint=fingerprint(der),
            serial=cert.serial_number,
            name=_attr(subject, NameOID.COMMON_NAME) or "",
            iin=iin,
            bin=bin_,
            organisation=_attr(subject, NameOID.ORGANIZATION_NAME),
            roles=roles,
            public_key=raw,
            not_before_ms=_ms(cert.not_valid_before_utc),
            not_after_ms=_ms(cert.not_valid_after_utc),
        )
        return cred, kind


# --- issuing (the CA's side; used by `tamga cluster init`, tests and the demo) -------------
@dataclasses.dataclass
class CertificateAuthority:
    """The consortium root CA: its key and self-signed certificate."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @classmethod
    def create(cls, name: str, now: datetime.datetime, years: int = 20) -> "CertificateAuthority":
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Tamga consortium")])
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365 * years))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert)

    @classmethod
    def load(cls, cert_pem: bytes, key_pem: bytes) -> "CertificateAuthority":
        key = serialization.load_pem_private_key(key_pem, password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return cls(key, x509.load_pem_x509_certificate(cert_pem))

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())

    def verifier(self) -> CertificateVerifier:
        return verifier_for(self.cert_pem)

    def _builder(self, name: str, iin: str | None, bin_: str | None, organisation: str | None, not_before: datetime.datetime, not_after: datetime.datetime) -> x509.CertificateBuilder:
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, name)]
        if iin:
            attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, "IIN" + ids.validate_iin(iin)))
        if bin_:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "BIN" + ids.validate_bin(bin_)))
        if organisation:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name(attrs))
            .issuer_name(self.cert.subject)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )

    def issue_eds(
        self,
        public_key: bytes,
        *,
        name: str,
        roles: Iterable[str],
        not_before: datetime.datetime,
        not_after: datetime.datetime,
        iin: str | None = None,
        bin: str | None = None,
        organisation: str | None = None,
    ) -> bytes:
        """An EDS certificate (DER) binding an Ed25519 key to a person or organisation and roles."""
        roles = sorted(set(roles))
        assert roles and all(r in ROLES for r in roles), f"unknown roles {roles}"
        builder = (
            self._builder(name, iin, bin, organisation, not_before, not_after)
            .public_key(ed25519.Ed25519PublicKey.from_public_bytes(public_key))
            .add_extension(x509.UnrecognizedExtension(OID_ROLES, ",".join(roles).encode()), critical=False)
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        )
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def issue_tls(
        self,
        tls_key: ec.EllipticCurvePrivateKey,
        *,
        name: str,
        validator_key: bytes,
        hosts: Iterable[str],
        not_before: datetime.datetime,
        not_after: datetime.datetime,
        bin: str | None = None,
        organisation: str | None = None,
        roles: Iterable[str] = ("validator",),
    ) -> bytes:
        """A node's TLS certificate (PEM), naming the Ed25519 key it votes with."""
        sans = [x509.DNSName(h) for h in hosts]
        builder = (
            self._builder(name, None, bin, organisation, not_before, not_after)
            .public_key(tls_key.public_key())
            .add_extension(x509.UnrecognizedExtension(OID_ROLES, ",".join(sorted(set(roles))).encode()), critical=False)
            .add_extension(x509.UnrecognizedExtension(OID_VALIDATOR_KEY, validator_key), critical=False)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH, x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        )
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def new_tls_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def private_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def der_from_pem(pem: bytes) -> bytes:
    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)

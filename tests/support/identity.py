"""A loopback stand-in for Microsoft Entra ID and Exchange Online's token check, over real HTTP.

Two servers, one state:

* the **token endpoint** (HTTPS with a self-signed certificate, because msal speaks https only):
  ``/{tenant}/v2.0/.well-known/openid-configuration`` and ``/{tenant}/oauth2/v2.0/token`` for the
  client-credentials grant, with a client secret or a certificate (a client assertion JWT, checked
  with PyJWT against the registered certificate's key); a wrong secret or signature, an unknown
  app or tenant get the AADSTS error bodies Entra ID sends (AADSTS7000215, AADSTS700027,
  AADSTS700016, AADSTS90002). Tokens are JWT-shaped with the
  app's ``roles`` and last ``lifetime`` seconds. Point msal at it with ``REQUESTS_CA_BUNDLE``;
* the **introspection endpoint** (plain HTTP on a fixed port that tests/services/dovecot.sh
  names): Dovecot's oauth2 passdb POSTs ``token=…`` and gets ``{"active": …, "username": …}``.
  A token is active while unexpired, when it carries ``IMAP.AccessAsApp`` and the app was given
  the mailbox (Add-MailboxPermission). aiosmtpd's XOAUTH2 check calls ``allows`` directly.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

TENANT = "kommune.test"
IMAP_ROLE, SMTP_ROLE = "IMAP.AccessAsApp", "SMTP.SendAsApp"


@dataclass
class Registration:
    """An app registration: its secret, its granted application permissions, its mailboxes."""

    secret: str | None
    roles: list[str] = field(default_factory=lambda: [IMAP_ROLE, SMTP_ROLE])
    mailboxes: set[str] = field(default_factory=set)
    public_key: Any = None  # of the uploaded certificate, for client assertions


@dataclass
class Issued:
    client_id: str
    roles: list[str]
    expires_at: float


class IdentityProvider:
    """Start with ``with IdentityProvider(dir, introspection_port) as idp:``; see the module doc."""

    def __init__(self, workdir: Path, introspection_port: int, *, lifetime: int = 3600) -> None:
        self.lifetime = lifetime
        self.apps: dict[str, Registration] = {}
        self.issued: dict[str, Issued] = {}
        self.token_requests = 0
        self.introspections: list[str] = []
        self.lock = threading.Lock()
        self.ca_file = workdir / "idp-ca.pem"
        cert, key = _self_signed(workdir)
        self.ca_file.write_bytes(cert.read_bytes())
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._tls = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._tls.socket = context.wrap_socket(self._tls.socket, server_side=True)
        self._plain = ThreadingHTTPServer(("127.0.0.1", introspection_port), _handler(self))
        self._threads = [
            threading.Thread(target=s.serve_forever, daemon=True) for s in (self._tls, self._plain)
        ]

    @property
    def authority(self) -> str:
        """The value for HOERING_OAUTH_AUTHORITY ({tenant} is filled in by hoering)."""
        return f"https://127.0.0.1:{self._tls.server_address[1]}/{{tenant}}"

    def register(
        self,
        client_id: str,
        secret: str | None,
        *,
        mailboxes: set[str],
        roles: list[str] | None = None,
        certificate: Path | None = None,
    ) -> None:
        """An app; ``certificate`` is a PEM whose certificate is "uploaded" (its key checks assertions)."""
        public_key = None
        if certificate is not None:
            from cryptography import x509

            public_key = x509.load_pem_x509_certificate(certificate.read_bytes()).public_key()
        with self.lock:
            self.apps[client_id] = Registration(
                secret,
                list(roles) if roles is not None else [IMAP_ROLE, SMTP_ROLE],
                set(mailboxes),
                public_key,
            )

    def allows(self, token: str, mailbox: str, role: str) -> bool:
        """What Exchange Online checks: unexpired, the permission, and the mailbox given to the app."""
        with self.lock:
            issued = self.issued.get(token)
            if issued is None or issued.expires_at <= time.time() or role not in issued.roles:
                return False
            app = self.apps.get(issued.client_id)
            return app is not None and mailbox.lower() in {m.lower() for m in app.mailboxes}

    def __enter__(self) -> IdentityProvider:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for server in (self._tls, self._plain):
            server.shutdown()
            server.server_close()

    # -- the endpoints ------------------------------------------------------------------------

    def openid_configuration(self, tenant: str) -> tuple[int, dict[str, Any]]:
        if tenant != TENANT:
            return 400, _aadsts("invalid_tenant", 90002, f"Tenant '{tenant}' not found.")
        base = f"https://127.0.0.1:{self._tls.server_address[1]}/{tenant}"
        return 200, {
            "issuer": f"{base}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
        }

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.token_requests += 1
            app = self.apps.get(form.get("client_id", ""))
            if app is None:
                return 400, _aadsts(
                    "unauthorized_client", 700016, "Application was not found in the directory."
                )
            if "client_assertion" in form:
                if not _assertion_ok(form["client_assertion"], app, form["client_id"]):
                    return 401, _aadsts(
                        "invalid_client", 700027, "Client assertion failed signature validation."
                    )
            elif form.get("grant_type") != "client_credentials" or form.get("client_secret") != app.secret:
                return 401, _aadsts("invalid_client", 7000215, "Invalid client secret provided.")
            value = _jwt(
                {"aud": "https://outlook.office365.com", "roles": app.roles, "appid": form["client_id"]}
            )
            self.issued[value] = Issued(form["client_id"], list(app.roles), time.time() + self.lifetime)
            return 200, {"token_type": "Bearer", "expires_in": self.lifetime, "access_token": value}

    def introspect(self, token: str) -> dict[str, Any]:
        with self.lock:
            self.introspections.append(token)
            issued = self.issued.get(token)
            app = self.apps.get(issued.client_id) if issued else None
        # Dovecot compares "username" with the user= of XOAUTH2; one mailbox per app here
        mailbox = next(iter(sorted(app.mailboxes)), "") if app else ""
        return {"active": bool(mailbox) and self.allows(token, mailbox, IMAP_ROLE), "username": mailbox}


def _handler(idp: IdentityProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def do_GET(self) -> None:
            parts = urlsplit(self.path).path.strip("/").split("/")
            if parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
                self._reply(*idp.openid_configuration(parts[0]))
                return
            self._reply(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            path = urlsplit(self.path).path
            if path.endswith("/oauth2/v2.0/token"):
                self._reply(*idp.token(form))
            elif path == "/introspect":
                self._reply(200, idp.introspect(form.get("token", "")))
            else:
                self._reply(404, {"error": "not_found"})

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _assertion_ok(assertion: str, app: Registration, client_id: str) -> bool:
    """The client assertion msal signs with the certificate's private key (PS256, RFC 7523)."""
    import jwt

    if app.public_key is None:
        return False
    try:
        claims = jwt.decode(
            assertion, app.public_key, algorithms=["PS256", "RS256"], options={"verify_aud": False}
        )
    except jwt.PyJWTError:
        return False
    return bool(claims.get("iss") == client_id == claims.get("sub"))


def make_certificate(path: Path) -> Path:
    """One PEM file with an RSA private key and its self-signed certificate (HOERING_OAUTH_CERTIFICATE)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hoering")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(private + cert.public_bytes(serialization.Encoding.PEM))
    return path


def _aadsts(error: str, code: int, text: str) -> dict[str, Any]:
    return {
        "error": error,
        "error_description": f"AADSTS{code}: {text} Trace ID: {secrets.token_hex(8)}",
        "error_codes": [code],
    }


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(claims: dict[str, Any]) -> str:
    header = _b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps({**claims, "jti": secrets.token_hex(8)}).encode())
    return f"{header}.{body}.{_b64(secrets.token_bytes(32))}"


def _self_signed(workdir: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (cryptography comes with msal)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = workdir / "idp-cert.pem", workdir / "idp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path

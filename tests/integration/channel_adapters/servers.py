"""Real servers the channel tests talk to over sockets: SMTP (aiosmtpd: STARTTLS or TLS, AUTH) and HTTP.

The HTTP server answers each request with the next scripted reply, else with its fake provider's answer:
Twilio, the WhatsApp Cloud API, or a Standard Webhooks receiver that verifies signatures with the library.
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import re
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from standardwebhooks import Webhook, WebhookVerificationError

logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd's own deprecation chatter on each AUTH


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- SMTP ---------------------------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    envelope_from: str
    recipients: list[str]
    message: EmailMessage
    login: str | None
    encrypted: bool


class MailServer:
    """aiosmtpd on 127.0.0.1: STARTTLS (or implicit TLS), AUTH checked against `users`, RCPT replies scripted.

    `refuse` maps a recipient address to the reply RCPT gets (e.g. "550 5.1.1 no such user").
    """

    def __init__(
        self,
        *,
        tls: ssl.SSLContext | None,
        users: dict[str, str],
        implicit_tls: bool = False,
        exclude_mechanisms: tuple[str, ...] = (),
    ) -> None:
        self.users = users
        self.refuse: dict[str, str] = {}
        self.received: list[ReceivedMail] = []
        self.logins: list[tuple[str, str]] = []  # (mechanism, login) of each accepted AUTH
        self.port = free_port()
        options: dict[str, Any] = {"authenticator": self._authenticate,
                                   "auth_exclude_mechanism": list(exclude_mechanisms)}
        if tls is not None and not implicit_tls:
            options.update(tls_context=tls, require_starttls=True, auth_required=bool(users))
        else:
            # aiosmtpd offers AUTH only after STARTTLS unless told otherwise (it does not count implicit
            # TLS); AUTH is then offered, not required, which it would warn about
            options.update(ssl_context=tls, auth_require_tls=False, auth_required=False)
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, server_hostname="localhost",
                                      **options)

    def start(self) -> MailServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller.server is not None:  # stopped already when a test took it away
            self._controller.stop()

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        login = auth_data.login.decode()
        accepted = self.users.get(login) == auth_data.password.decode()
        if accepted:
            self.logins.append((mechanism, login))
        return AuthResult(success=accepted, handled=False, auth_data=auth_data if accepted else None)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd hook
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
        message = message_from_bytes(envelope.content, policy=policy.default)
        login = session.auth_data.login.decode() if session.authenticated else None
        encrypted = server.transport.get_extra_info("sslcontext") is not None
        mail = ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message, login, encrypted)
        self.received.append(mail)
        return "250 2.0.0 OK queued"


class SilentServer:
    """Accepts TCP connections and never says a word: an SMTP or HTTP peer that hangs."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(8)
        self.port = self._socket.getsockname()[1]

    def close(self) -> None:
        self._socket.close()


# --- HTTP ---------------------------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {key: values[0] for key, values in parse_qs(self.body.decode()).items()}


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to sit on the request first: longer than the client's time-out


class ProviderServer:
    """A real HTTP server in a thread; records every request; replies come from `script` or `answer`."""

    def __init__(self, answer: Callable[[Request], Reply]) -> None:
        self.answer = answer
        self.requests: list[Request] = []
        self._scripted: list[Reply] = []
        self._release = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._server.handle_error = lambda request, address: None  # a client gone after its time-out
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ProviderServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._release.is_set():
            return
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def script(self, *replies: Reply) -> None:
        """The next requests get these replies, in order; after them, the fake provider answers again."""
        with self._lock:
            self._scripted.extend(replies)

    def reply_to(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            scripted = self._scripted.pop(0) if self._scripted else None
        reply = scripted or self.answer(request)
        if reply.delay:
            self._release.wait(reply.delay)
        return reply


def _handler_for(server: ProviderServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("content-length") or 0)
            request = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                              self.rfile.read(length))
            reply = server.reply_to(request)
            body = b"" if reply.body is None else (
                reply.body.encode() if isinstance(reply.body, str) else json.dumps(reply.body).encode()
            )
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.body is not None and "content-type" not in {k.lower() for k in reply.headers}:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
            return None

    return Handler


# --- fake providers -----------------------------------------------------------------------------------

E164 = re.compile(r"\+[1-9]\d{6,14}")


class FakeTwilio:
    """Answers as Twilio's Messages API does: basic auth, form fields, error codes, idempotency tokens."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.path = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.credentials = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self.sent: list[dict[str, str]] = []
        self._by_token: dict[str, str] = {}
        self._sids = (f"SM{number:032x}" for number in itertools.count(1))

    def __call__(self, request: Request) -> Reply:
        if request.path != self.path:
            return Reply(404, {"code": 20404, "message": "The requested resource was not found"})
        if request.headers.get("authorization") != self.credentials:
            return Reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
        form = request.form()
        if not E164.fullmatch(form.get("To", "")):
            message = f"The 'To' number {form.get('To')} is not a valid phone number."
            return Reply(400, {"code": 21211, "message": message, "status": 400})
        token = request.headers.get("i-twilio-idempotency-token", "")
        if token not in self._by_token:
            self._by_token[token] = next(self._sids)
            self.sent.append(form)
        return Reply(201, {"sid": self._by_token[token], "status": "queued", "to": form["To"]})


class FakeWhatsApp:
    """Answers as the WhatsApp Cloud API does: bearer token, JSON messages, `wamid` ids, error objects."""

    def __init__(self, phone_number_id: str, access_token: str, version: str = "v21.0") -> None:
        self.path = f"/{version}/{phone_number_id}/messages"
        self.authorization = f"Bearer {access_token}"
        self.sent: list[dict[str, Any]] = []

    def __call__(self, request: Request) -> Reply:
        if request.headers.get("authorization") != self.authorization:
            return Reply(401, whatsapp_error(190, "Invalid OAuth access token - Cannot parse access token"))
        body = request.json()
        if request.path != self.path or body.get("messaging_product") != "whatsapp":
            return Reply(400, whatsapp_error(100, "Invalid parameter"))
        self.sent.append(body)
        wamid = f"wamid.HBgL{len(self.sent):08d}"
        contacts = [{"input": body["to"], "wa_id": body["to"]}]
        answer = {"messaging_product": "whatsapp", "contacts": contacts, "messages": [{"id": wamid}]}
        return Reply(200, answer)


def whatsapp_error(code: int, message: str) -> dict[str, Any]:
    details = {"messaging_product": "whatsapp", "details": message}
    return {"error": {"message": message, "type": "OAuthException", "code": code, "error_data": details,
                      "fbtrace_id": "Atr0"}}


class WebhookReceiver:
    """A Standard Webhooks receiver: verifies each request with the library; keeps each webhook-id once."""

    def __init__(self, secret: str) -> None:
        self.verifier = Webhook(secret)
        self.accepted: dict[str, Any] = {}
        self.refused: list[str] = []

    def __call__(self, request: Request) -> Reply:
        try:
            payload = self.verifier.verify(request.body, request.headers)
        except WebhookVerificationError as error:
            self.refused.append(str(error))
            return Reply(401, {"error": str(error)})
        self.accepted.setdefault(request.headers["webhook-id"], payload)
        return Reply(200, {"id": f"rcv_{len(self.accepted)}"})

"""Real components for the reminder tests: a local HTTP server playing the WeCom and DingTalk
group robots, and an aiosmtpd SMTP server on 127.0.0.1.

The robot server answers as the real ones do (HTTP 200 with JSON ``errcode``). It checks a
DingTalk robot's signature itself, from the documented rule, and can be told to answer an HTTP
error, a non-zero ``errcode``, or to hang."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OK, HTTP_500, ERRCODE, HANG = "ok", "http500", "errcode", "hang"


@dataclass
class Received:
    kind: str  # "wecom" or "dingtalk"
    robot: str
    query: dict[str, str]
    payload: dict
    sign_ok: bool | None = None


@dataclass
class RobotServer:
    server: ThreadingHTTPServer
    modes: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    hang_started: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, kind: str, robot: str) -> str:
        param = "key" if kind == "wecom" else "access_token"
        return f"http://127.0.0.1:{self.port}/{kind}/{robot}?{param}=TOKEN-{robot}"

    def of(self, robot: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.robot == robot]

    def text(self, received: Received) -> str:
        markdown = received.payload.get("markdown", {})
        return markdown.get("content") or markdown.get("text") or ""


def dingtalk_signature_ok(query: dict[str, str], secret: str) -> bool:
    """DingTalk's check: sign == base64(HMAC-SHA256(secret, "<timestamp>\\n<secret>")), the
    timestamp within an hour of now."""
    try:
        timestamp = int(query["timestamp"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() * 1000 - timestamp) > 3600 * 1000:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest())
    return hmac.compare_digest(expected.decode(), query.get("sign", ""))


class _Server(ThreadingHTTPServer):
    # the default listen backlog (5) would drop concurrent senders' connections for a second
    request_queue_size = 128
    daemon_threads = True


def start_robot_server() -> RobotServer:
    holder: dict[str, RobotServer] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            state = holder["state"]
            parts = urllib.parse.urlsplit(self.path)
            kind, _, robot = parts.path.strip("/").partition("/")
            query = dict(urllib.parse.parse_qsl(parts.query))
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                payload = json.loads(raw.decode("utf-8"))
            except ValueError:
                payload = {}
            sign_ok = None
            if kind == "dingtalk" and robot in state.secrets:
                sign_ok = dingtalk_signature_ok(query, state.secrets[robot])
            with state.lock:
                state.received.append(Received(kind, robot, query, payload, sign_ok))
            mode = state.modes.get(robot, OK)
            if mode == HANG:
                state.hang_started.set()
                state.release.wait(timeout=60)
                return  # the client gave up long ago; answer nothing
            if mode == HTTP_500:
                self._answer(500, {"errcode": -1, "errmsg": "system busy"})
            elif mode == ERRCODE:
                self._answer(200, {"errcode": 93000, "errmsg": "invalid webhook url"})
            elif sign_ok is False:
                self._answer(200, {"errcode": 310000, "errmsg": "sign not match"})
            elif payload.get("msgtype") != "markdown" or not isinstance(payload.get("markdown"), dict):
                self._answer(200, {"errcode": 40008, "errmsg": "invalid message type"})
            else:
                self._answer(200, {"errcode": 0, "errmsg": "ok"})

        def _answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass

    server = _Server(("127.0.0.1", 0), Handler)
    state = RobotServer(server)
    holder["state"] = state
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return state


def stop_robot_server(state: RobotServer) -> None:
    state.release.set()
    state.server.shutdown()
    state.server.server_close()


# --- SMTP -------------------------------------------------------------------------------


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    content: bytes

    def message(self):
        from email import message_from_bytes, policy

        return message_from_bytes(self.content, policy=policy.default)

    @property
    def subject(self) -> str:
        return str(self.message()["Subject"])

    @property
    def body(self) -> str:
        return self.message().get_body(preferencelist=("plain",)).get_content()


class SmtpHandler:
    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]

"""A small, hostile fake of the Infrahub api-key endpoints, on 127.0.0.1, for end-to-end tests.

The real sandbox is a faithful emulator; this one misbehaves on purpose, in one named way per
mode, while keeping the response shapes of ../shared/upstream/ (and of our sandbox) wherever it
answers at all:

```python
from hostile_upstream import HostileUpstream
with HostileUpstream(mode="trickle", interval=1.0) as up:
    up.base_url                   # "http://127.0.0.1:PORT/v1"
    up.requests                   # [{method, path, headers, body, at}], headers with lower-case names
    up.count("GET", "/api-key")   # requests received whose path starts with the prefix (with or without /v1)
    up.env()                      # {"HYPERSTACK_API_KEY": up.api_key}, for spawning hyperstack-rpc
```

Modes (and the options each one reads):
- `normal`: a working upstream with `keys` (default: two keys) and the real routes.
  Requests without the right `api_key` header get 401, as upstream does (all modes that answer
  normally check it; pass `api_key=None` to accept any).
- `trickle`: sends the headers of a valid list answer, then one body byte every `interval`
  seconds (default 1.0), on every route.
- `huge`: a list answer whose body is `size` bytes (default 5 MiB, above the client's 4 MiB
  limit); `chunked=True` sends it without a Content-Length.
- `echo`: every answer is an error with HTTP `status` (default 400) whose body echoes the received
  `api_key` header back raw, upper-cased, percent-encoded, base64-encoded, split around ": " as
  `api_key: KEY`, and cut to an 8-character (and a 12-character) prefix. `body_format` is `json`
  (`{status, message, error_reason}`, the default), `errors` (`{errors: {api_key: ...}, message}`)
  or `text` (not JSON at all).
- `redirect`: every request gets `redirect_status` (default 302) to the same path on a second
  listener on another port (another origin), which answers as `normal` and records what arrived:
  `up.target.requests`, `up.credentials_forwarded()`.
- `log_injection`: every answer is an error with HTTP `status` (default 400) whose message (and
  `error_reason`, and a response header) holds `\\n`, `\\r` and ANSI escapes that forge log lines
  such as `\\n2026-01-01T00:00:00Z critical forged: owned`. `FORGED_LINE` is what to look for.
- `ids`: the list holds duplicate ids, and negative, zero and huge ones (`ids` overrides:
  a list of `(id, name)`); update and delete of any of them succeed.
- `unmasked`: the list returns every key's full secret (`secret`) in `key`, where upstream puts
  the masked form.
- `slow`: answers as `normal`, each answer delayed by `delay` seconds (default 1.0).

The server runs on daemon threads; `close()` (or leaving the `with` block) stops it and ends any
answer still trickling.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional

MODES = ("normal", "trickle", "huge", "echo", "redirect", "log_injection", "ids", "unmasked", "slow")

DEFAULT_API_KEY = "Qx7Kp2+Zr9Vw/Mt4Lb6=Nc3Hd8Js5Fg1Wy0"  # random-looking (no word a message could hold); "+", "/", "=" make its percent-encoding differ

#: The line `log_injection` tries to forge in our log; it must never appear at the start of a line.
FORGED_LINE = "2026-01-01T00:00:00Z critical forged: owned"

#: Ids of `ids` mode: a duplicate (7 twice, the second entry differs), and odd ones upstream may use.
ODD_IDS = [(7, "dup-first"), (7, "dup-second"), (-1, "negative"), (0, "zero"),
           (2**63 - 1, "huge"), (2**31, "past-int32"), (12, "ordinary")]

CREATED_AT = "2026-05-06T15:18:42Z"


def masked(secret: str) -> str:
    """Upstream's masked form: the last four characters visible."""
    return "********-****-****-****-********" + secret[-4:]


def echoes(key: str) -> list[str]:
    """The received key in every encoding a redaction must catch."""
    return [
        key,
        key.upper(),
        urllib.parse.quote(key, safe=""),
        base64.b64encode(key.encode("utf-8", "surrogateescape")).decode("ascii"),
        "api_key: " + key,
        key[:8],
        key[:12],
    ]


class _Listener(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True


class HostileUpstream:
    """One fake Infrahub on an ephemeral loopback port, misbehaving as `mode` says."""

    def __init__(self, mode: str = "normal", *, api_key: Optional[str] = DEFAULT_API_KEY,
                 keys: Optional[list[dict]] = None, interval: float = 1.0, size: int = 5 * 1024 * 1024,
                 chunked: bool = False, status: int = 400, body_format: str = "json",
                 redirect_status: int = 302, ids: Optional[list] = None,
                 secret: str = "5f1c2a9e-7d3b-4c8e-9a6f-0b1d2e3f4be9", delay: float = 1.0) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {MODES}")
        self.mode = mode
        self.api_key = api_key
        self.interval = interval
        self.size = size
        self.chunked = chunked
        self.status = status
        self.body_format = body_format
        self.redirect_status = redirect_status
        self.secret = secret
        self.delay = delay
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._next_id = 100
        if keys is not None:
            self.keys = [dict(key) for key in keys]
        elif mode == "ids":
            self.keys = [self._key(id, name) for id, name in (ids or ODD_IDS)]
        else:
            self.keys = [self._key(1, "first"), self._key(2, "second")]
        self.target: Optional[HostileUpstream] = None
        if mode == "redirect":
            self.target = HostileUpstream("normal", api_key=None, keys=self.keys)
        self._server = _Listener(("127.0.0.1", 0), self._handler_class())
        self.port = self._server.server_address[1]
        self.root = f"http://127.0.0.1:{self.port}"
        self.base_url = self.root + "/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    # -- the public surface ---------------------------------------------------
    def count(self, method: str, path_prefix: str = "") -> int:
        """Requests received with `method` whose path starts with `path_prefix` (with or without /v1)."""
        with self._lock:
            return sum(1 for request in self.requests if request["method"] == method.upper()
                       and (request["path"].startswith(path_prefix)
                            or request["path"].startswith("/v1" + path_prefix)))

    def env(self) -> dict:
        """The environment that points hyperstack-rpc's credential at this upstream."""
        return {"HYPERSTACK_API_KEY": self.api_key or DEFAULT_API_KEY}

    def spawn_rpc(self, spawn: Any, *args: str, env: Optional[dict] = None, secrets: Any = (), **kwargs: Any) -> Any:
        """Starts hyperstack-rpc (through the `spawn` fixture) against this upstream; the API key and
        `secret` are secrets the protocol validator watches for."""
        return spawn("--base-url", self.base_url, *args, env={**self.env(), **(env or {})},
                     secrets=[self.api_key or DEFAULT_API_KEY, self.secret, *secrets], **kwargs)

    def credentials_forwarded(self) -> bool:
        """In `redirect` mode: whether any request reached the second listener with credentials."""
        assert self.target is not None, "only redirect mode has a second listener"
        names = {"api_key", "authorization", "cookie", "proxy-authorization"}
        return any(names & set(request["headers"]) for request in self.target.requests)

    def close(self) -> None:
        self._stopped.set()
        self._server.shutdown()
        self._server.server_close()
        if self.target is not None:
            self.target.close()

    def __enter__(self) -> "HostileUpstream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- bodies -----------------------------------------------------------------
    def _key(self, id: int, name: str, description: Optional[str] = None) -> dict:
        return {"id": id, "name": name, "description": description, "key": masked(self.secret),
                "created_at": CREATED_AT}

    def _listed_keys(self) -> list[dict]:
        if self.mode == "unmasked":
            return [{**key, "key": self.secret} for key in self.keys]
        return list(self.keys)

    def list_body(self) -> dict:
        with self._lock:
            return {"status": True, "message": "Getting API Keys success", "api_keys": self._listed_keys()}

    @staticmethod
    def error_body(status: int, message: str) -> dict:
        reason = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                  409: "already_exist", 429: "too_many_requests"}.get(status, "server_error" if status >= 500 else "error")
        return {"status": False, "message": message, "error_reason": reason}

    def _echo_body(self, received: str) -> tuple[str, bytes]:
        forms = echoes(received)
        text = "Invalid api_key. Received " + " | ".join(forms)
        if self.body_format == "text":
            return "text/plain", text.encode("utf-8", "surrogateescape")
        if self.body_format == "errors":
            body: dict = {"errors": {"api_key": text, "raw": received, "encoded": forms[2:5]},
                          "message": "Input payload validation failed"}
        else:
            body = self.error_body(self.status, text)
            body["api_key"] = received
        return "application/json", json.dumps(body).encode()

    def _injection_body(self) -> bytes:
        message = ("Bad request\n" + FORGED_LINE + "\r" + FORGED_LINE
                   + "\x1b[2K\x1b[1G" + FORGED_LINE + "\x1b[31m red \x1b[0m\u2028" + FORGED_LINE + "\n")
        body = self.error_body(self.status, message)
        body["error_reason"] = "bad_request\n" + FORGED_LINE
        return json.dumps(body).encode()

    # -- routing ---------------------------------------------------------------
    def _answer(self, handler: "BaseHTTPRequestHandler", method: str, path: str, body: bytes) -> None:
        mode = self.mode
        received = handler.headers.get("api_key", "")
        if mode == "slow":
            self._stopped.wait(self.delay)
        if mode == "redirect":
            assert self.target is not None
            handler._send(self.redirect_status, b"", "application/json",
                          extra=[("Location", self.target.root + handler.path)])
            return
        if mode == "echo":
            content_type, payload = self._echo_body(received)
            handler._send(self.status, payload, content_type)
            return
        if mode == "log_injection":
            handler._send(self.status, self._injection_body(), "application/json",
                          extra=[("X-Note", "forged log line follows")])
            return
        if mode == "trickle":
            handler._trickle(json.dumps(self.list_body()).encode(), self.interval, self._stopped)
            return
        if mode == "huge":
            handler._huge(self.size, self.chunked)
            return
        if self.api_key is not None and received != self.api_key:
            handler._json(401, self.error_body(401, "Unauthorized: the api_key is not valid"))
            return
        route = path[len("/v1"):] if path.startswith("/v1/") else None
        if route == "/api-key" and method == "GET":
            handler._json(200, self.list_body())
        elif route == "/api-key/generate" and method == "POST":
            self._generate(handler, body)
        elif route is not None and route.startswith("/api-key/") and method in ("PUT", "DELETE"):
            self._change(handler, method, route[len("/api-key/"):], body)
        else:
            handler._json(404, self.error_body(404, "Not found"))

    def _payload(self, handler: "BaseHTTPRequestHandler", body: bytes) -> Optional[dict]:
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or not isinstance(payload.get("name"), str) \
                or not 1 <= len(payload["name"]) <= 200:
            handler._json(400, self.error_body(400, '"name" must be 1 to 200 characters long.'))
            return None
        return payload

    def _generate(self, handler: "BaseHTTPRequestHandler", body: bytes) -> None:
        payload = self._payload(handler, body)
        if payload is None:
            return
        with self._lock:
            self._next_id += 1
            key = self._key(self._next_id, payload["name"], payload.get("description"))
            self.keys.append(key)
        handler._json(200, {"status": True, "message": "API Key generated successfully",
                            "api_key": {**key, "key": self.secret}})

    def _change(self, handler: "BaseHTTPRequestHandler", method: str, raw_id: str, body: bytes) -> None:
        try:
            id = int(urllib.parse.unquote(raw_id))
        except ValueError:
            handler._json(400, self.error_body(400, "api_key_id must be an integer"))
            return
        with self._lock:
            matches = [key for key in self.keys if key["id"] == id]
        if not matches:
            handler._json(404, self.error_body(404, "API Key not found"))
            return
        if method == "DELETE":
            with self._lock:
                self.keys = [key for key in self.keys if key["id"] != id]
            handler._json(200, {"status": True, "message": "API Key deleted successfully"})
            return
        payload = self._payload(handler, body)
        if payload is None:
            return
        with self._lock:
            for key in matches:
                key["name"] = payload["name"]
                if "description" in payload:
                    key["description"] = payload["description"]
            updated = dict(matches[-1])
        if self.mode == "unmasked":
            updated["key"] = self.secret
        handler._json(200, {"status": True, "message": "API Key updated successfully", "api_key": updated})

    def _handler_class(self) -> type:
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "hostile-upstream"
            sys_version = ""

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                pass

            def handle(self) -> None:
                # A client that hangs up mid-answer (a timeout, a size limit) is expected here.
                try:
                    super().handle()
                except (ConnectionError, TimeoutError):
                    self.close_connection = True

            def _record(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with upstream._lock:
                    upstream.requests.append({
                        "method": self.command, "path": self.path,
                        "headers": {name.lower(): value for name, value in self.headers.items()},
                        "body": body, "at": time.monotonic()})
                return body

            def _serve(self) -> None:
                body = self._record()
                try:
                    upstream._answer(self, self.command, urllib.parse.urlsplit(self.path).path, body)
                except ConnectionError:
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

            def _send(self, status: int, payload: bytes, content_type: str,
                      extra: Optional[list] = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in extra or []:
                    # send_header would pass control characters through; keep the header line one line.
                    self.send_header(name, value.replace("\r", " ").replace("\n", " "))
                self.end_headers()
                self.wfile.write(payload)
                self.wfile.flush()

            def _json(self, status: int, body: dict) -> None:
                self._send(status, json.dumps(body).encode(), "application/json")

            def _trickle(self, payload: bytes, interval: float, stopped: threading.Event) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.flush()
                for index in range(len(payload)):
                    if stopped.wait(interval):
                        break
                    self.wfile.write(payload[index:index + 1])
                    self.wfile.flush()
                self.close_connection = True

            def _huge(self, size: int, chunked: bool) -> None:
                head = b'{"status":true,"message":"Getting API Keys success","api_keys":[{"id":1,"name":"big",' \
                       b'"description":"'
                tail = b'","key":"********-****-****-****-********be9a","created_at":"' + CREATED_AT.encode() + b'"}]}'
                padding = max(0, size - len(head) - len(tail))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                if chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                else:
                    self.send_header("Content-Length", str(len(head) + padding + len(tail)))
                self.end_headers()
                block = b"x" * 65536

                def write(data: bytes) -> None:
                    if chunked:
                        self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
                    else:
                        self.wfile.write(data)

                write(head)
                while padding > 0:
                    part = block[:min(padding, len(block))]
                    write(part)
                    padding -= len(part)
                write(tail)
                if chunked:
                    self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

        return Handler

"""Run the real hyperstack-sandbox over HTTP on 127.0.0.1 for the end-to-end suites."""

from __future__ import annotations

import json
import subprocess
import threading
import urllib.error
import urllib.request
from typing import Any, Optional

from rpc_process import binary_path


class SandboxServer:
    """A hyperstack-sandbox process listening on an ephemeral loopback port."""

    def __init__(self, *args: str, api_key: str = "e2e-test-key") -> None:
        self.api_key = api_key
        self.proc = subprocess.Popen(
            [binary_path("hyperstack-sandbox"), "--host", "127.0.0.1", "--port", "0", "--api-key", api_key, *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("http://127.0.0.1:"):
            self.proc.kill()
            raise RuntimeError(f"hyperstack-sandbox did not print its URL: {line!r} {self.proc.stderr.read()!r}")
        self.base_url = line
        self.root = line[: -len("/v1")]
        self.stderr = bytearray()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for chunk in iter(lambda: self.proc.stderr.read1(65536), b""):
            self.stderr.extend(chunk)

    def http(self, method: str, path: str, body: Any = None, api_key: Optional[str] = None,
             root: bool = False, access_token: Optional[str] = None) -> tuple[int, Any]:
        """One request; `path` is under /v1 unless `root`; with `access_token`, also sent as
        `Authorization: Bearer`. Returns (status, parsed body or text)."""
        url = (self.root if root else self.base_url) + path
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if not root:
            request.add_header("api_key", api_key or self.api_key)
            if access_token:
                request.add_header("Authorization", f"Bearer {access_token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
        try:
            return status, json.loads(payload)
        except ValueError:
            return status, payload.decode("utf-8", "replace")

    def stats(self) -> dict:
        status, body = self.http("GET", "/_sandbox/stats", root=True)
        assert status == 200, body
        return body["requests"]

    def upstream_requests(self) -> int:
        return sum(self.stats().values())

    def faults(self, *specs: dict) -> None:
        status, body = self.http("POST", "/_sandbox/faults", {"faults": list(specs)}, root=True)
        assert status in (200, 201, 204), body

    def reset(self) -> None:
        status, body = self.http("POST", "/_sandbox/reset", {}, root=True)
        assert status in (200, 204), body

    def spawn_rpc(self, spawn: Any, *args: str, env: Optional[dict] = None, secrets: Any = (),
                  **kwargs: Any) -> Any:
        """Starts hyperstack-rpc (through the `spawn` fixture) pointed at this sandbox with its key
        in HYPERSTACK_API_KEY; the key is a secret the protocol validator watches for."""
        return spawn("--base-url", self.base_url, *args, env={"HYPERSTACK_API_KEY": self.api_key, **(env or {})},
                     secrets=[self.api_key, *secrets], **kwargs)

    def route_count(self, route: str) -> int:
        """Requests seen for one route, e.g. "GET /api-key" or "POST /api-key/generate"."""
        return self.stats().get(route, 0)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

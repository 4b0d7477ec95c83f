"""A tiny OpenAI-compatible chat-completions server on 127.0.0.1 whose behaviour a test controls.

    with ChatServer() as server:
        server.answer("6100", 0.93)                 # every request: this account and confidence
        server.fail(500, times=2)                   # the next 2 requests: HTTP 500, then back to the default
        server.sleep(1.0)                           # every request: wait 1 s before answering
        server.respond(lambda request: "...")       # compute the message content from the request
        server.requests                             # what was received: headers, JSON body, prompt text

`server.base_url` is what LLM_BASE_URL should be set to (it ends in /v1, like real providers).
"""
from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")

    @property
    def prompt(self) -> str:
        """All message contents, joined: what the model was shown."""
        return "\n".join(str(message.get("content", "")) for message in self.body.get("messages", []))


@dataclass
class Reply:
    status: int = 200
    content: str | None = None  # the assistant message text (a 200 chat-completions envelope around it)
    body: bytes | None = None  # the raw response body instead of an envelope (for broken providers)
    delay: float = 0.0  # seconds to wait before answering


@dataclass
class ChatServer:
    model: str = "test-model"
    requests: list[ReceivedRequest] = field(default_factory=list)
    default: Reply = field(default_factory=lambda: Reply(content=json.dumps(
        {"account": "6100", "confidence": 0.9, "reason": "office supplies vendor"})))
    responder: Callable[[ReceivedRequest], str] | None = None
    _queue: list[Reply] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    # --- behaviour -------------------------------------------------------------------------------------------

    def answer(self, account: Any, confidence: Any = 0.9, reason: str = "test answer") -> None:
        """Every later request is answered with this account and confidence (any JSON values)."""
        self.responder = None
        self.default = Reply(content=json.dumps({"account": account, "confidence": confidence, "reason": reason}))

    def answer_text(self, content: str) -> None:
        """Every later request is answered with this message text (for non-JSON or malformed answers)."""
        self.responder = None
        self.default = Reply(content=content)

    def respond(self, responder: Callable[[ReceivedRequest], str]) -> None:
        """Every later request is answered with the message text responder(request) returns."""
        self.responder = responder

    def fail(self, status: int = 500, times: int | None = None) -> None:
        """The next `times` requests (every later one when None) get this HTTP status."""
        self._set(Reply(status=status, body=b'{"error": {"message": "failure for the test"}}'), times)

    def sleep(self, seconds: float, times: int | None = None) -> None:
        """The next `times` requests (every later one when None) wait `seconds` before answering."""
        with self._lock:
            if times is None:
                self.default = Reply(status=self.default.status, content=self.default.content,
                                     body=self.default.body, delay=seconds)
            else:
                self._queue.extend(Reply(delay=seconds) for _ in range(times))

    def raw_body(self, body: bytes, times: int | None = None) -> None:
        """Answer HTTP 200 with this body instead of a chat-completions envelope."""
        self._set(Reply(body=body), times)

    def _set(self, reply: Reply, times: int | None) -> None:
        with self._lock:
            if times is None:
                self.responder = None
                self.default = reply
            else:
                self._queue.extend([reply] * times)

    @property
    def count(self) -> int:
        return len(self.requests)

    # --- lifecycle -------------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._server is not None, "the server is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> ChatServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {}
                request = ReceivedRequest(path=self.path, headers={k.lower(): v for k, v in self.headers.items()},
                                          body=body if isinstance(body, dict) else {})
                with server._lock:
                    server.requests.append(request)
                    reply = server._queue.pop(0) if server._queue else server.default
                    default, responder = server.default, server.responder
                if reply.delay and server._stopping.wait(reply.delay):
                    return
                if self.path.rstrip("/") != "/v1/chat/completions":
                    reply = Reply(status=404, body=b'{"error": {"message": "not found"}}')
                if reply.body is not None:
                    payload = reply.body
                else:
                    content = reply.content
                    if content is None:  # a queued delay: the current default answer
                        content = responder(request) if responder is not None else default.content
                    elif reply is default and responder is not None:
                        content = responder(request)
                    payload = json.dumps({
                        "id": "chatcmpl-test", "object": "chat.completion", "model": server.model,
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": content}}],
                    }).encode("utf-8")
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up (timeout): nothing to do
                    pass

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-llm", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ChatServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

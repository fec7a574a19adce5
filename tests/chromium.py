"""A small driver for headless Chromium over the DevTools protocol, for the browser tests.

One browser process and one tab serve every page of a test session (starting Chromium costs
about a second on the course's 2-core machine). The tab records what a student would see in
the console: exceptions, ``console.error`` / ``console.warn`` messages and failed loads
(a 404 favicon included).

Needs the ``websocket-client`` package (a dependency of Jupyter's server, declared in the
``test`` extra) and a Chromium binary.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import websocket

FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--mute-audio", "--allow-file-access-from-files",
    "--remote-debugging-port=0", "--remote-allow-origins=*",
]


@dataclass
class ConsoleEntry:
    """One message a student's browser console would show."""

    level: str  #: "error" or "warning"
    text: str
    url: str = ""

    def __str__(self) -> str:
        return f"[{self.level}] {self.text}" + (f" ({self.url})" if self.url else "")


@dataclass
class Tab:
    """One tab of a running Chromium; every call waits for its answer."""

    socket: websocket.WebSocket
    console: list[ConsoleEntry] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _events: list[dict] = field(default_factory=list)

    def call(self, method: str, timeout: float = 60.0, **params) -> dict:
        """Send one DevTools command and return its result (raises on a protocol error)."""
        call_id = next(self._ids)
        self.socket.send(json.dumps({"id": call_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            self.socket.settimeout(max(0.1, deadline - time.monotonic()))
            message = json.loads(self.socket.recv())
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._event(message)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{method}: no answer within {timeout} s")

    def _event(self, message: dict) -> None:
        method, params = message.get("method", ""), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text", "")
            self.console.append(ConsoleEntry("error", text.splitlines()[0] if text else "exception", details.get("url", "")))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            self.console.append(ConsoleEntry("error" if params["type"] != "warning" else "warning", text))
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
            entry = params["entry"]
            self.console.append(ConsoleEntry(entry["level"], entry["text"], entry.get("url", "")))
        elif method == "Page.loadEventFired":
            self._events.append(message)

    def evaluate(self, expression: str, timeout: float = 60.0):
        """The value of a JavaScript expression (promises awaited), or a RuntimeError with its exception."""
        result = self.call("Runtime.evaluate", timeout=timeout, expression=expression, awaitPromise=True,
                           returnByValue=True)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise RuntimeError(details.get("exception", {}).get("description") or details.get("text"))
        return result["result"].get("value")

    def click(self, x: float, y: float) -> None:
        """A left click (a tap) at viewport coordinates, as a person's pointer would."""
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def set_viewport(self, width: int, height: int, mobile: bool) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=mobile)

    def open(self, url: str, ready: str = "true", timeout: float = 60.0) -> None:
        """Load ``url`` (console emptied first) and wait until ``ready`` (a JS expression, or a promise) is true."""
        self.console.clear()
        self._events.clear()
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        self._wait_for_load(deadline, url, clear=False)  # the load event: every script of the page has run
        while True:
            try:
                if self.evaluate(ready, timeout=timeout):
                    break
            except RuntimeError as err:
                if "navigated" not in str(err):
                    raise
                self._wait_for_load(deadline, url)  # a redirecting page (index.html): wait for the next one
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url}: not ready ({ready[:80]}...) within {timeout} s")
            time.sleep(0.2)
        self.drain()

    def _wait_for_load(self, deadline: float, url: str, clear: bool = True) -> None:
        """Wait for the next load event (``clear``: forget one already seen, a redirect's first page)."""
        if clear:
            self._events.clear()
        while not self._events:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not finish loading in time")
            try:
                self.socket.settimeout(1.0)
                self._event(json.loads(self.socket.recv()))
            except websocket.WebSocketTimeoutException:
                pass

    def drain(self, seconds: float = 0.3) -> None:
        """Read the events that arrived meanwhile (late console messages)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                self.socket.settimeout(max(0.05, end - time.monotonic()))
                self._event(json.loads(self.socket.recv()))
            except websocket.WebSocketTimeoutException:
                break

    def screenshots(self, stem: Path, tile_height: int = 4000) -> list[Path]:
        """PNGs of the whole page, top to bottom, in tiles ``stem-01.png``, ``stem-02.png``, ...

        A long chapter is 15,000 px or more: tiles keep each image viewable. The tiles are of equal
        height (at most ``tile_height``), so that no tile is a thin strip of the page's last pixels:
        a 16,024 px page gives five tiles of 3,205 px, not four of 4,000 and one of 24.
        """
        width, height = self.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
        height = max(1, height)
        count = -(-height // tile_height)
        step = -(-height // count)
        paths = []
        for n, top in enumerate(range(0, height, step), start=1):
            clip = {"x": 0, "y": top, "width": width, "height": min(step, height - top), "scale": 1}
            data = self.call("Page.captureScreenshot", timeout=120, format="png", captureBeyondViewport=True, clip=clip)["data"]
            path = stem.with_name(f"{stem.name}-{n:02d}.png")
            path.write_bytes(base64.b64decode(data))
            paths.append(path)
        return paths


class Chromium:
    """A headless Chromium process with one tab; use as a context manager."""

    def __init__(self, binary: str):
        self.binary = binary
        self._profile = tempfile.TemporaryDirectory(ignore_cleanup_errors=True)  # Chromium may still be writing
        self.process: subprocess.Popen | None = None
        self.tab: Tab | None = None

    def __enter__(self) -> Tab:
        self.process = subprocess.Popen([self.binary, *FLAGS, f"--user-data-dir={self._profile.name}", "about:blank"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        port = None
        deadline = time.monotonic() + 60
        while port is None:
            line = self.process.stderr.readline()
            if not line and self.process.poll() is not None:
                raise RuntimeError(f"Chromium exited with status {self.process.returncode} before it listened")
            match = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            if match:
                port = int(match.group(1))
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not open its DevTools port within 60 s")
        # stderr is not read any more: send it nowhere so that Chromium never blocks on a full pipe
        threading_drain(self.process.stderr)
        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read())
        page = next(t for t in targets if t["type"] == "page")
        self.tab = Tab(websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60, suppress_origin=True))
        for domain in ("Page", "Runtime", "Log"):
            self.tab.call(f"{domain}.enable")
        return self.tab

    def __exit__(self, *exc) -> None:
        if self.tab is not None:
            self.tab.socket.close()
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._profile.cleanup()


def threading_drain(stream) -> None:
    import threading

    threading.Thread(target=lambda: [None for _ in stream], daemon=True).start()

"""A headless Chromium driven over the DevTools protocol, for the report's browser tests.

Chromium is started with ``--remote-debugging-pipe``: it reads protocol messages (JSON, each ended by a NUL
byte) from its file descriptor 3 and writes replies and events to its descriptor 4, so no port is opened and
no package beyond the standard library is needed. :class:`Browser` opens one page and offers what the tests
need: evaluate a script, click an element with real mouse events, press keys, take a screenshot, and the
console messages, exceptions, dialogs and network requests the page made.

The protocol is Chromium's own (https://chromedevtools.github.io/devtools-protocol/): ``Target``, ``Page``,
``Runtime``, ``Input``, ``Network`` and ``Emulation`` domains.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


class BrowserError(Exception):
    """The browser did not answer in time, or answered a command with an error."""


class Browser:
    """One headless Chromium with one page (use as a context manager)."""

    def __init__(self, profile: Path, *, width: int = 1280, height: int = 900, timeout: float = 60.0) -> None:
        assert CHROMIUM is not None
        self.timeout = timeout
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire() -> None:  # in the child: its fd 3 reads our commands, its fd 4 writes its answers
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
                   "--disable-background-networking", "--disable-component-update", "--disable-sync",
                   "--no-first-run", "--disable-extensions", "--hide-scrollbars", "--force-device-scale-factor=1",
                   "--font-render-hinting=none", f"--window-size={width},{height}", f"--user-data-dir={profile}",
                   "about:blank"]
        self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, preexec_fn=wire,
                                         pass_fds=(3, 4))  # kept open after wire() made them
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.console: list[str] = []
        self.exceptions: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        target = next(t for t in self.command("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self.session = self.command("Target.attachToTarget", targetId=target["targetId"], flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.page(f"{domain}.enable")
        self.page("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                  mobile=False)

    # -- the protocol ------------------------------------------------------------------------------------
    def _send(self, message: dict[str, Any]) -> int:
        self._next_id += 1
        message["id"] = self._next_id
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        return self._next_id

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_child], [], [], left)[0]:
                raise BrowserError("no answer from chromium in time")
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise BrowserError("chromium closed its pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        if "method" in message:
            self._note(message)
        return message

    def _note(self, message: dict[str, Any]) -> None:
        self.events.append(message)
        method, params = message["method"], message.get("params", {})
        if method == "Runtime.consoleAPICalled":
            self.console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.exceptions.append(str(details.get("exception", {}).get("description") or details.get("text")))
        elif method == "Log.entryAdded":
            self.console.append(f"{params['entry']['level']}: {params['entry']['text']}")
        elif method == "Page.javascriptDialogOpening":
            self.dialogs.append(params.get("message", ""))
            self._send({"method": "Page.handleJavaScriptDialog", "params": {"accept": True},
                        "sessionId": self.session})
        elif method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])

    def command(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        message: dict[str, Any] = {"method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        wanted = self._send(message)
        deadline = time.monotonic() + self.timeout
        while True:
            answer = self._read(deadline)
            if answer.get("id") == wanted:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result

    def page(self, method: str, **params: Any) -> dict[str, Any]:
        return self.command(method, self.session, **params)

    def wait_for(self, method: str) -> dict[str, Any]:
        """Wait for the next protocol event named ``method`` (one seen already counts once)."""
        for index, event in enumerate(self.events):
            if event["method"] == method:
                del self.events[index]
                return event
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._read(deadline)
            if message.get("method") == method:
                self.events.remove(message)
                return message

    # -- what the tests use ------------------------------------------------------------------------------
    def open(self, url: str) -> None:
        self.events.clear()
        self.page("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        answer = self.page("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in answer:
            raise BrowserError(f"{expression[:80]}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def wait_until(self, expression: str) -> Any:
        """Evaluate ``expression`` until it is truthy (the page's own script may still be working)."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.05)
        raise BrowserError(f"never true: {expression}")

    def click(self, selector: str) -> None:
        """Scroll the element into view and click its middle with real mouse events. Waits for the element first:
        what an earlier click opened may still be rendering (on a busy machine the page's script runs late)."""
        self.wait_until(f"document.querySelector({json.dumps(selector)}) !== null")
        box = self.evaluate(f"(function () {{ var e = document.querySelector({json.dumps(selector)});"
                            "e.scrollIntoView({block: 'center'}); var r = e.getBoundingClientRect();"
                            "return [r.left + r.width / 2, r.top + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            self.page("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def press(self, key: str) -> None:
        """Press and release one key (``ArrowDown``, ``Enter``, ``Tab``, ``Home``, ...) on the focused element."""
        codes = {"ArrowDown": 40, "ArrowUp": 38, "Enter": 13, "Tab": 9, "Home": 36, "End": 35, " ": 32}
        text = {"Enter": "\r", " ": " "}.get(key)
        down: dict[str, Any] = {"type": "keyDown", "key": key, "code": "Space" if key == " " else key,
                                "windowsVirtualKeyCode": codes[key]}
        if text:
            down["text"] = text
        self.page("Input.dispatchKeyEvent", **down)
        self.page("Input.dispatchKeyEvent", type="keyUp", key=key, code=down["code"],
                  windowsVirtualKeyCode=codes[key])

    def screenshot(self, path: Path, selector: str | None = None) -> None:
        """A PNG of the viewport, or of one element's box (scrolled into view first)."""
        params: dict[str, Any] = {"format": "png"}
        if selector is not None:
            box = self.evaluate(f"(function () {{ var e = document.querySelector({json.dumps(selector)});"
                                "e.scrollIntoView({block: 'start'}); var r = e.getBoundingClientRect();"
                                "return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height]; })()")
            params["clip"] = {"x": box[0], "y": box[1], "width": box[2], "height": box[3], "scale": 1}
            params["captureBeyondViewport"] = True
        data = self.page("Page.captureScreenshot", **params)["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._send({"method": "Browser.close"})
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._to_child)
        os.close(self._from_child)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""What the browser tests do on the dashboard, as a person would: sign in, drop files, look."""

from __future__ import annotations

import base64
import mimetypes
import re
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Locator, Page, expect

__all__ = ["ADMIN", "SCREENSHOTS", "USER", "Account", "WatchedPage"]

SCREENSHOTS = Path(__file__).parent / "screenshots"


@dataclass(frozen=True)
class Account:
    name: str
    password: str


ADMIN = Account("ada", "ada-admin-pw")
USER = Account("uma", "uma-user-pw")


@dataclass
class WatchedPage:
    """A Playwright page that records every console error and uncaught exception."""

    page: Page
    url: str
    errors: list[str] = field(default_factory=list)
    #: Console errors a test provoked on purpose (a wrong password answers 401), by pattern.
    expected: list[re.Pattern[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.page.set_default_timeout(15_000)
        # Intercept file choosers from the start: expect_file_chooser() alone turns the
        # interception on asynchronously, and a key pressed right after could open a native
        # chooser the test never sees (1 run in 3 on this machine).
        self.page.on("filechooser", lambda _chooser: None)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        text = f"console error: {message.text} at {message.location.get('url', '?')}"
        if any(p.search(text) for p in self.expected):
            return
        self.errors.append(text)

    def expect_console_error(self, pattern: str) -> None:
        self.expected.append(re.compile(pattern))

    def assert_no_errors(self) -> None:
        assert not self.errors, "the page logged errors:\n" + "\n".join(self.errors)

    # --- actions ---------------------------------------------------------------------

    def open(self, path: str = "/") -> None:
        self.page.goto(path)
        expect(self.page.locator("#main")).to_be_attached()

    def sign_in(self, account: Account) -> None:
        self.open()
        self.page.get_by_label("Username").fill(account.name)
        self.page.get_by_label("Password").fill(account.password)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.get_by_role("heading", name="Your documents")).to_be_visible()
        self.wait_live()

    def wait_live(self) -> None:
        """The status stream is connected (the header says Live)."""
        expect(self.page.locator("#live")).to_have_attribute("data-state", "live")

    def drop_files(self, paths: list[Path], target: str = "#dropzone") -> None:
        """Drag-and-drop ``paths`` onto ``target``: a real drop event with a DataTransfer of Files."""
        files = [{"name": p.name, "type": mimetypes.guess_type(p.name)[0] or "application/octet-stream",
                  "data": base64.b64encode(p.read_bytes()).decode()} for p in paths]
        self.page.evaluate(
            """([selector, files]) => {
                const zone = document.querySelector(selector);
                const transfer = new DataTransfer();
                for (const f of files) {
                    const bytes = Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0));
                    transfer.items.add(new File([bytes], f.name, { type: f.type }));
                }
                for (const type of ["dragenter", "dragover", "drop"]) {
                    zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true,
                                                             dataTransfer: transfer }));
                }
            }""",
            [target, files],
        )

    def row(self, filename: str) -> Locator:
        return self.page.locator("#doc-list li.doc").filter(
            has=self.page.get_by_role("link", name=filename, exact=True))

    def bar(self, filename: str) -> Locator:
        return self.page.get_by_role("progressbar", name=f"Progress of {filename}")

    def screenshot(self, name: str, *, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page, animations="disabled")
        return path

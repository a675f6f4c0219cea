"""A small client of a running gateway, for the CLI's commands that talk to it over HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from doclane.exceptions import DoclaneError

__all__ = ["ClientError", "GatewayClient", "default_url"]


class ClientError(DoclaneError):
    category = "client"
    #: The gateway's HTTP status, when it answered.
    status_code: int | None = None


def default_url() -> str:
    return os.environ.get("DOCLANE_URL", "http://127.0.0.1:8000")


class GatewayClient:
    """Logs in once (or uses a given token) and calls the API with it.

    Credentials come from the arguments, else ``DOCLANE_TOKEN`` or
    ``DOCLANE_USERNAME``/``DOCLANE_PASSWORD``, else the ``demo`` user whose
    password ``make run`` keeps in the data directory.
    """

    def __init__(self, url: str, *, token: str | None = None, username: str | None = None,
                 password: str | None = None, data_dir: Path = Path("data"),
                 timeout_s: float = 30) -> None:
        self._http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout_s)
        self._url = url
        self._token = token or os.environ.get("DOCLANE_TOKEN")
        self._username = username or os.environ.get("DOCLANE_USERNAME")
        self._password = password or os.environ.get("DOCLANE_PASSWORD")
        self._data_dir = data_dir

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    def get(self, path: str, **params: Any) -> Any:
        """GET ``path`` with the query ``params`` (``None`` values left out); the JSON answer."""
        query = {k: v for k, v in params.items() if v is not None}
        return self._answer(self._http.get(path, params=query, headers=self._auth()))

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """An authenticated request; the raw answer, whatever its status."""
        headers = {**kwargs.pop("headers", {}), **self._auth()}
        return self._http.request(method, path, headers=headers, **kwargs)

    def answer(self, response: httpx.Response) -> Any:
        """The JSON of a successful answer; a :class:`ClientError` with the gateway's detail otherwise."""
        return self._answer(response)

    def token(self) -> str:
        """The bearer token the requests carry (logging in first if there is none yet)."""
        return self._auth()["Authorization"].removeprefix("Bearer ")

    def login(self) -> tuple[str, dict[str, Any]]:
        """Log in with the user name and password: the token and the whole login answer."""
        answer = self._login_answer()
        self._token = str(answer["access_token"])
        return self._token, answer

    def events(self, path: str, **params: Any) -> Iterator[tuple[str | None, str, str]]:
        """Server-Sent Events from ``path``: ``(id, event, data)`` until the server ends the stream."""
        query = {k: v for k, v in params.items() if v is not None}
        with self._http.stream("GET", path, params=query, headers=self._auth(),
                               timeout=httpx.Timeout(None, connect=10)) as response:
            if not response.is_success:
                response.read()
                self._answer(response)
            event_id: str | None = None
            event, data = "message", list[str]()
            for line in response.iter_lines():
                if not line:
                    if data:
                        yield event_id, event, "\n".join(data)
                    event, data = "message", []
                elif line.startswith("id:"):
                    event_id = line[3:].strip()
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].removeprefix(" "))

    def _auth(self) -> dict[str, str]:
        if self._token is None:
            self._token = self._login()
        return {"Authorization": f"Bearer {self._token}"}

    def _login(self) -> str:
        return str(self._login_answer()["access_token"])

    def _login_answer(self) -> Any:
        username, password = self._username, self._password
        if username is None or password is None:
            demo = self._data_dir / ".demo_password"
            if not demo.is_file():
                raise ClientError(
                    "No credentials: run `doclane login`, set DOCLANE_USERNAME and DOCLANE_PASSWORD "
                    "(or DOCLANE_TOKEN), or pass --user and --password.")
            username, password = "demo", demo.read_text().strip()
        return self._answer(self._http.post(
            "/auth/login", json={"username": username, "password": password}))

    def _answer(self, response: httpx.Response) -> Any:
        if response.is_success:
            return response.json()
        try:
            body = response.json()
        except ValueError:
            body = None
        # Not every server in front of doclane answers JSON objects (a proxy's error page).
        detail = body.get("detail", response.text) if isinstance(body, dict) else response.text
        error = ClientError(f"{self._url} answered {response.status_code}: {detail}")
        error.status_code = response.status_code
        raise error

    def request_error(self, exc: httpx.HTTPError) -> ClientError:
        return ClientError(f"Could not reach doclane at {self._url} ({exc}); is it running "
                           "(make run), and is DOCLANE_URL right?")

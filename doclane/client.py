"""A small client of a running gateway, for the CLI's commands that talk to it over HTTP."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

from doclane.exceptions import DoclaneError

__all__ = ["ClientError", "GatewayClient", "default_url"]


class ClientError(DoclaneError):
    category = "client"


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

    def _auth(self) -> dict[str, str]:
        if self._token is None:
            self._token = self._login()
        return {"Authorization": f"Bearer {self._token}"}

    def _login(self) -> str:
        username, password = self._username, self._password
        if username is None or password is None:
            demo = self._data_dir / ".demo_password"
            if not demo.is_file():
                raise ClientError(
                    "No credentials: set DOCLANE_USERNAME and DOCLANE_PASSWORD (or DOCLANE_TOKEN), "
                    "or pass --user and --password.")
            username, password = "demo", demo.read_text().strip()
        answer = self._answer(self._http.post(
            "/auth/login", json={"username": username, "password": password}))
        return str(answer["access_token"])

    def _answer(self, response: httpx.Response) -> Any:
        if response.is_success:
            return response.json()
        try:
            body = response.json()
        except ValueError:
            body = None
        # Not every server in front of doclane answers JSON objects (a proxy's error page).
        detail = body.get("detail", response.text) if isinstance(body, dict) else response.text
        raise ClientError(f"{self._url} answered {response.status_code}: {detail}")

    def request_error(self, exc: httpx.HTTPError) -> ClientError:
        return ClientError(f"Could not reach doclane at {self._url} ({exc}); is it running "
                           "(make run), and is DOCLANE_URL right?")

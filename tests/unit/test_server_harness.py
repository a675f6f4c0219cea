"""The test harness's server process: ready means *this* process answers on its port."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from tests.utils.server import ServerProcess


class _AlwaysReady(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


def test_a_port_another_server_took_first_moves_the_server_to_another(tmp_path: Path):
    # free_port() hands out a port that is free only at that moment: another test's server
    # may bind it first. Ours must not take that server's /ready for its own and then vanish.
    server = ServerProcess(tmp_path / "data")
    taken = server.port
    other = HTTPServer(("127.0.0.1", taken), _AlwaysReady)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        with server:
            assert server.port != taken
            assert server.url.endswith(f":{server.port}")
            assert "address already in use" in server.log_text()
    finally:
        other.shutdown()
        other.server_close()

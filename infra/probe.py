#!/usr/bin/env python3
"""Readiness probes for the local test services, standard library only.

    probe.py kafka HOST PORT   ApiVersions + Metadata request; ok when the broker
                               lists itself and a controller is elected
    probe.py mongo HOST PORT   OP_MSG {hello: 1}; ok when the reply has ok: 1

Exit 0 when the service answers as expected, 1 otherwise (reason on stderr).
Used by infra/kafka.sh and infra/ferretdb.sh; no third-party packages needed.
"""

from __future__ import annotations

import socket
import struct
import sys

TIMEOUT = 3.0


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed by peer")
        buf += chunk
    return bytes(buf)


# ---------------------------------------------------------------- Kafka --


def _kafka_call(sock: socket.socket, api_key: int, version: int, corr: int, body: bytes) -> bytes:
    client_id = b"doclane-probe"
    header = struct.pack(">hhih", api_key, version, corr, len(client_id)) + client_id
    payload = header + body
    sock.sendall(struct.pack(">i", len(payload)) + payload)
    (size,) = struct.unpack(">i", _recv_exact(sock, 4))
    resp = _recv_exact(sock, size)
    (got_corr,) = struct.unpack_from(">i", resp, 0)
    if got_corr != corr:
        raise ValueError(f"correlation id mismatch: {got_corr} != {corr}")
    return resp[4:]


def probe_kafka(host: str, port: int) -> None:
    with socket.create_connection((host, port), timeout=TIMEOUT) as sock:
        sock.settimeout(TIMEOUT)
        # ApiVersions v0 (key 18): every broker version accepts it.
        resp = _kafka_call(sock, 18, 0, 1, b"")
        error_code, count = struct.unpack_from(">hi", resp, 0)
        if error_code != 0:
            raise ValueError(f"ApiVersions error_code={error_code}")
        versions = {}
        off = 6
        for _ in range(count):
            key, vmin, vmax = struct.unpack_from(">hhh", resp, off)
            versions[key] = (vmin, vmax)
            off += 6
        if 3 not in versions:
            raise ValueError("broker does not offer Metadata")
        vmin, vmax = versions[3]
        # v4..v7 share the non-flexible request layout used below.
        version = max(vmin, 4)
        if version > min(vmax, 7):
            return  # ApiVersions answered; cannot speak this Metadata range, good enough
        body = struct.pack(">ib", 0, 0)  # topics = [] (none), allow_auto_topic_creation = false
        resp = _kafka_call(sock, 3, version, 2, body)
        _throttle, nbrokers = struct.unpack_from(">ii", resp, 0)
        off = 8
        for _ in range(nbrokers):
            _node_id, hlen = struct.unpack_from(">ih", resp, off)
            off += 6 + hlen + 4  # host, port
            (rlen,) = struct.unpack_from(">h", resp, off)
            off += 2 + max(rlen, 0)
        (clen,) = struct.unpack_from(">h", resp, off)
        off += 2 + max(clen, 0)
        (controller_id,) = struct.unpack_from(">i", resp, off)
        if nbrokers < 1:
            raise ValueError("Metadata lists no brokers yet")
        if controller_id < 0:
            raise ValueError("no active controller yet")


# ---------------------------------------------------------------- Mongo --


def _bson_hello() -> bytes:
    db = b"admin\x00"
    elems = b"\x10hello\x00" + struct.pack("<i", 1) + b"\x02$db\x00" + struct.pack("<i", len(db)) + db
    return struct.pack("<i", 4 + len(elems) + 1) + elems + b"\x00"


def probe_mongo(host: str, port: int) -> None:
    doc = _bson_hello()
    body = struct.pack("<I", 0) + b"\x00" + doc  # flagBits, section kind 0, document
    header = struct.pack("<iiii", 16 + len(body), 1, 0, 2013)  # OP_MSG
    with socket.create_connection((host, port), timeout=TIMEOUT) as sock:
        sock.settimeout(TIMEOUT)
        sock.sendall(header + body)
        (size,) = struct.unpack("<i", _recv_exact(sock, 4))
        resp = _recv_exact(sock, size - 4)
    _req, _resp_to, opcode = struct.unpack_from("<iii", resp, 0)
    if opcode != 2013:
        raise ValueError(f"unexpected opcode {opcode}")
    reply = resp[12 + 4 + 1 :]
    i = reply.find(b"\x01ok\x00")
    if i >= 0 and struct.unpack_from("<d", reply, i + 4)[0] == 1.0:
        return
    i = reply.find(b"\x10ok\x00")
    if i >= 0 and struct.unpack_from("<i", reply, i + 4)[0] == 1:
        return
    raise ValueError("hello did not answer ok: 1")


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[1] not in ("kafka", "mongo"):
        print(__doc__, file=sys.stderr)
        return 2
    kind, host, port = argv[1], argv[2], int(argv[3])
    try:
        (probe_kafka if kind == "kafka" else probe_mongo)(host, port)
    except (OSError, ValueError, struct.error) as exc:
        print(f"probe {kind} {host}:{port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

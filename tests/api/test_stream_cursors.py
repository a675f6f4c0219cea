"""Property tests of the resume cursors of ``/documents/stream`` (SSE) and ``/ws``.

Whatever a client sends as ``since`` / ``Last-Event-ID`` (numbers of any size, signs,
text, JSON of any type), the answer is a stream from a cursor it has, or a refusal that
says what to send: never a 5xx, never a stream that dies.
"""

from __future__ import annotations

import json

import httpx
import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from doclane.api.stream import InvalidCursor, check_cursor

_ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children,
                                                                      max_size=3),
    max_leaves=6,
)
_CURSOR_TEXT = (st.integers(min_value=-(10**40), max_value=10**40).map(str)
                | st.text(alphabet="0123456789 +-.eE_x", max_size=25)
                | st.text(max_size=30))


@settings(max_examples=400, derandomize=True)
@given(value=_ANY_JSON | _CURSOR_TEXT, latest=st.integers(min_value=0, max_value=2**62))
def test_a_cursor_is_accepted_only_in_range_and_refused_with_what_to_send(value, latest):
    try:
        cursor = check_cursor(value, "since", latest)
    except InvalidCursor as exc:
        assert "since" in str(exc) and str(latest) in str(exc)
        return
    assert 0 <= cursor <= latest
    assert not isinstance(value, bool | float)
    assert cursor == int(value)


_LIVE = settings(max_examples=25, derandomize=True, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])


@_LIVE
@given(value=_CURSOR_TEXT.filter(lambda v: v.isascii() and v.isprintable() and v == v.strip()))
@pytest.mark.parametrize("where", ["since", "Last-Event-ID"])
def test_sse_answers_a_stream_or_a_400_for_any_cursor(server, alice_token, where, value):
    headers = {"Authorization": f"Bearer {alice_token}"}
    kwargs: dict = ({"params": {"since": value}} if where == "since"
                    else {"headers": {**headers, "Last-Event-ID": value}})
    kwargs.setdefault("headers", headers)
    with httpx.Client(base_url=server.url, timeout=10) as c, c.stream(
            "GET", "/documents/stream", **kwargs) as r:
        if r.status_code == 200:  # none (start now), or a cursor this user has: the stream is alive
            assert value == "" or (value.isascii() and value.isdigit()), value
            return
        assert r.status_code == 400, (value, r.status_code)
        assert where in json.loads(r.read())["detail"]


@_LIVE
@given(first=_ANY_JSON)
async def test_ws_says_ready_or_refuses_with_1008_for_any_first_message(server, alice_token, first):
    url = server.url.replace("http://", "ws://") + "/ws"
    body = {"token": alice_token, "since": first}
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps(body))
        message = json.loads(await ws.recv())
        if message["type"] == "ready":
            assert isinstance(first, int) and not isinstance(first, bool) and first >= 0
            return
        assert message["type"] == "error" and "since" in message["detail"], message
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008

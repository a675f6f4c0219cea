"""Running a synchronous embedding function off the event loop, one batch at a time.

Local models are CPU work. Running each caller's texts in its own thread would
put several inferences on two cores at once: each is slower, and together they
are no faster. Instead every embedder owns one worker thread, and callers that
arrive while it is busy are *combined*: the next turn takes every text that is
waiting and embeds them in one call, which also lets the model batch texts of
similar length together. A caller waits for at most one batch in front of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt

__all__ = ["BatchingRunner", "l2_normalise"]

Matrix = npt.NDArray[np.float32]


def l2_normalise(matrix: Matrix) -> Matrix:
    """Rows scaled to unit length; a row of zeros (a text without any token) stays zero."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    # Dividing a zero row by 1 keeps it zero instead of making it NaN.
    return (matrix / np.where(norms > 0, norms, 1.0)).astype(np.float32, copy=False)


class BatchingRunner:
    """Serialises calls to ``fn`` in one thread and merges the calls that wait meanwhile.

    ``fn`` maps a list of texts to a ``(len(texts), dim)`` float32 matrix and is
    only ever run by the one worker thread, so it needs no locking of its own.
    """

    def __init__(self, fn: Callable[[list[str]], Matrix], dim: int, name: str,
                 max_texts_per_turn: int = 512) -> None:
        self._fn = fn
        self._dim = dim
        self._max_texts = max_texts_per_turn
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"embed-{name}")
        self._pending: list[tuple[list[str], asyncio.Future[Matrix]]] = []
        self._lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        # Strong references: a turn whose caller was cancelled must still run to its end.
        self._turns: set[asyncio.Task[None]] = set()

    async def run(self, texts: Sequence[str]) -> Matrix:
        """The embeddings of ``texts``, computed in a turn shared with other waiting callers."""
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # asyncio primitives belong to one loop; a new loop (another ``asyncio.run``,
            # a test's loop) gets its own, so a loaded model can outlive the loop.
            self._loop, self._lock, self._pending = loop, asyncio.Lock(), []
        future: asyncio.Future[Matrix] = loop.create_future()
        self._pending.append((list(texts), future))
        while not future.done():
            # The lock is FIFO: whoever holds it embeds everything queued so far,
            # including, usually, the texts of the callers waiting behind it.
            async with self._lock:
                if future.done():
                    break
                batch = self._take_turn()
                # Shielded: if this caller is cancelled, the others in the batch
                # still get their vectors (the thread can't be stopped anyway).
                turn = loop.create_task(self._compute(batch))
                self._turns.add(turn)
                turn.add_done_callback(self._turns.discard)
                await asyncio.shield(turn)
        return future.result()

    def _take_turn(self) -> list[tuple[list[str], asyncio.Future[Matrix]]]:
        """The waiting calls, oldest first, up to ``max_texts_per_turn`` texts (at least one call)."""
        taken: list[tuple[list[str], asyncio.Future[Matrix]]] = []
        count = 0
        while self._pending:
            texts, future = self._pending[0]
            if taken and count + len(texts) > self._max_texts:
                break
            self._pending.pop(0)
            if future.done():  # its caller was cancelled while waiting
                continue
            taken.append((texts, future))
            count += len(texts)
        return taken

    async def _compute(self, batch: list[tuple[list[str], asyncio.Future[Matrix]]]) -> None:
        if not batch:
            return
        texts = [text for call_texts, _ in batch for text in call_texts]
        loop = asyncio.get_running_loop()
        try:
            vectors = await loop.run_in_executor(self._executor, self._fn, texts)
        except Exception as exc:  # every caller of this turn gets the error
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        start = 0
        for call_texts, future in batch:
            end = start + len(call_texts)
            if not future.done():
                future.set_result(vectors[start:end])
            start = end

    def close(self) -> None:
        """Stop the worker thread once its current turn is over."""
        self._executor.shutdown(wait=False, cancel_futures=True)

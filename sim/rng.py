"""Random streams indexed by world.

Worlds are grouped in fixed blocks of :data:`GROUP` consecutive world indices; each block has its
own ``numpy.random.Generator`` derived with ``SeedSequence(seed, spawn_key=(block,))``. Every day a
block draws one fixed-size row of uniforms per world, whatever phase the world is in. A world's
draws therefore depend only on the seed and its index, never on the batch, the chunk size or the
process it runs in, and the Mesa agent mode (one world) sees exactly the kernel's numbers.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

GROUP = 64
"""Worlds per random stream."""

BLOCK_DAYS = 32
"""Days of uniforms drawn per call, at most."""

BLOCK_BYTES = 16 * 2**20
"""Largest buffer of uniforms drawn per call: streams of many worlds draw fewer days at a time
(a chunk of 512 worlds of six factions draws 32 days, one of 100,000 worlds one day), so memory
does not grow with the chunk size times 32 days."""


def _generator(seed: int, group: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(group,))))


_DRAWER: tuple[int, ThreadPoolExecutor] | None = None
_DRAWER_LOCK = threading.Lock()


def _drawer() -> ThreadPoolExecutor:
    """This process's thread that draws the next block of uniforms ahead of the kernel, made
    anew in a forked child (which inherits its parent's executor but not its thread)."""
    global _DRAWER
    with _DRAWER_LOCK:
        if _DRAWER is None or _DRAWER[0] != os.getpid():
            _DRAWER = (os.getpid(), ThreadPoolExecutor(1, thread_name_prefix="negsim-draws"))
        return _DRAWER[1]


class WorldStreams:
    """Daily uniforms for worlds ``start .. start + count - 1``.

    Args:
        seed: the run's seed.
        start: index of the first world.
        count: number of worlds.
        slots: uniforms per world per day.
        block_days: days drawn per call (a speed and memory setting; it does not change the
            numbers). Default: :data:`BLOCK_DAYS`, fewer if a block would exceed
            :data:`BLOCK_BYTES`.
    """

    def __init__(self, seed: int, start: int, count: int, slots: int, block_days: int | None = None):
        self.first_group = start // GROUP
        last_group = (start + count - 1) // GROUP
        self.gens = [_generator(seed, g) for g in range(self.first_group, last_group + 1)]
        if block_days is None:
            day_bytes = len(self.gens) * GROUP * slots * 8
            block_days = max(1, min(BLOCK_DAYS, BLOCK_BYTES // day_bytes))
        self.offset = start - self.first_group * GROUP
        self.count = count
        self.slots = slots
        self.block_days = block_days
        self._buf = np.empty((len(self.gens), block_days, GROUP, slots))
        self._day_buf = np.empty((len(self.gens) * GROUP, slots))
        self._next = block_days

    def next_block_day(self) -> tuple[np.ndarray, int]:
        """The next day's uniforms without copying: ``(buffer, t)`` where world ``i`` of this
        stream reads ``buffer[(offset + i) // GROUP, t, (offset + i) % GROUP]``."""
        if self._next == self.block_days:
            for gi, gen in enumerate(self.gens):
                gen.random(out=self._buf[gi])
            self._next = 0
        t = self._next
        self._next += 1
        return self._buf, t

    def _fill(self, buf: np.ndarray) -> None:
        for gi, gen in enumerate(self.gens):
            gen.random(out=buf[gi])

    def blocks(self, days: int, ahead: bool = False) -> Iterator[np.ndarray]:
        """The buffers of the blocks that cover ``days`` days, one after the other (each laid
        out as in :meth:`next_block`). A buffer is valid until the next one is asked for.

        With ``ahead``, a thread draws the next block while the caller steps the current one
        (numpy releases the GIL while it draws, and so does the kernel). The generators are
        still drawn in order, block after block, so the numbers are the same either way; it
        only uses a second core when one is idle.
        """
        if self._next != self.block_days:
            raise RuntimeError("blocks() must start on a block boundary")
        n = -(-days // self.block_days)
        if not ahead or n < 2:
            for _ in range(n):
                yield self.next_block()
            return
        bufs = (self._buf, np.empty_like(self._buf))
        pool = _drawer()
        pending = pool.submit(self._fill, bufs[0])
        try:
            for b in range(n):
                pending.result()
                if b + 1 < n:
                    pending = pool.submit(self._fill, bufs[(b + 1) % 2])
                yield bufs[b % 2]
        finally:
            pending.result()  # never leave a draw running into a buffer the caller may reuse

    def next_block(self) -> np.ndarray:
        """Draw the next ``block_days`` days at once and return the buffer: world ``i`` of this
        stream reads day ``t`` of the block at ``buffer[(offset + i) // GROUP, t,
        (offset + i) % GROUP]``. Must start on a block boundary (not after :meth:`next_day`)."""
        if self._next != self.block_days:
            raise RuntimeError("next_block() must start on a block boundary")
        self._fill(self._buf)
        return self._buf

    def next_day(self) -> np.ndarray:
        """Uniforms in [0, 1) for the next day, shaped ``[worlds, slots]``."""
        buf, t = self.next_block_day()
        self._day_buf.reshape(len(self.gens), GROUP, self.slots)[...] = buf[:, t]
        return self._day_buf[self.offset:self.offset + self.count]

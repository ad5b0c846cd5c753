"""Random streams indexed by world.

Worlds are grouped in fixed blocks of :data:`GROUP` consecutive world indices; each block has its
own ``numpy.random.Generator`` derived with ``SeedSequence(seed, spawn_key=(block,))``. Every day a
block draws one fixed-size row of uniforms per world, whatever phase the world is in. A world's
draws therefore depend only on the seed and its index, never on the batch, the chunk size or the
process it runs in, and the Mesa agent mode (one world) sees exactly the kernel's numbers.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator

import numpy as np

GROUP = 64
"""Worlds per random stream."""

BLOCK_DAYS = 32
"""Days of uniforms drawn per call, at most."""

BLOCK_BYTES = 2**20
"""Largest buffer of uniforms drawn per call (or one day's, if larger): streams of many worlds
draw fewer days at a time (a chunk of 64 worlds of six factions draws 32 days, one of 512
worlds 6 days, one of 100,000 worlds one day), so memory does not grow with the chunk size
times 32 days, and the buffer the kernel reads while it steps a block stays in a core's
second-level cache (1 MiB here). Measured on kabul_2022 (512-world chunks, CPU time): 290 ns
a world-day with 6-16 days a block against 330 with 32 (a 5 MB buffer)."""


def _generator(seed: int, group: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(group,))))


def _next_double(gen: np.random.Generator):
    """The C function by which ``gen``'s bit generator draws one uniform, taking the address of
    its state as a whole number (numpy's ctypes interface of a bit generator; the same function
    for every PCG64), so that compiled code can draw as ``Generator.random`` does
    (:func:`sim.core.kernel.fill_block`)."""
    address = ctypes.cast(gen.bit_generator.ctypes.next_double, ctypes.c_void_p).value
    return ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_uint64)(address)


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
        self.next_double = _next_double(self.gens[0])
        """numpy's PCG64 draw of one uniform, for :func:`sim.core.kernel.fill_block`."""
        self.states = np.array([g.bit_generator.ctypes.state_address for g in self.gens], np.uint64)
        """Addresses of the generators' states, for :func:`sim.core.kernel.fill_block` (valid
        while this object lives)."""

    @property
    def buffer(self) -> np.ndarray:
        """The block buffer ``[groups, block_days, GROUP, slots]`` (the one :meth:`next_block`
        returns), which :func:`sim.core.kernel.fill_block` fills too."""
        return self._buf

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

    def blocks(self, days: int) -> Iterator[np.ndarray]:
        """The buffers of the blocks that cover ``days`` days, one after the other (each laid
        out as in :meth:`next_block`). A buffer is valid until the next one is asked for."""
        if self._next != self.block_days:
            raise RuntimeError("blocks() must start on a block boundary")
        for _ in range(-(-days // self.block_days)):
            yield self.next_block()

    def next_block(self) -> np.ndarray:
        """Draw the next ``block_days`` days at once and return the buffer: world ``i`` of this
        stream reads day ``t`` of the block at ``buffer[(offset + i) // GROUP, t,
        (offset + i) % GROUP]``. Must start on a block boundary (not after :meth:`next_day`)."""
        if self._next != self.block_days:
            raise RuntimeError("next_block() must start on a block boundary")
        for gi, gen in enumerate(self.gens):
            gen.random(out=self._buf[gi])
        return self._buf

    def next_day(self) -> np.ndarray:
        """Uniforms in [0, 1) for the next day, shaped ``[worlds, slots]``."""
        buf, t = self.next_block_day()
        self._day_buf.reshape(len(self.gens), GROUP, self.slots)[...] = buf[:, t]
        return self._day_buf[self.offset : self.offset + self.count]

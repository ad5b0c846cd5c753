"""Random streams indexed by world.

Worlds are grouped in fixed blocks of :data:`GROUP` consecutive world indices; each block has its
own ``numpy.random.Generator`` derived with ``SeedSequence(seed, spawn_key=(block,))``. Every day a
block draws one fixed-size row of uniforms per world, whatever phase the world is in. A world's
draws therefore depend only on the seed and its index, never on the batch, the chunk size or the
process it runs in, and the Mesa agent mode (one world) sees exactly the kernel's numbers.
"""

from __future__ import annotations

import numpy as np

GROUP = 64
"""Worlds per random stream."""


def _generator(seed: int, group: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(group,))))


class WorldStreams:
    """Daily uniforms for worlds ``start .. start + count - 1``.

    Args:
        seed: the run's seed.
        start: index of the first world.
        count: number of worlds.
        slots: uniforms per world per day.
        block_days: days drawn per call (a speed setting; it does not change the numbers).
    """

    def __init__(self, seed: int, start: int, count: int, slots: int, block_days: int = 32):
        self.first_group = start // GROUP
        last_group = (start + count - 1) // GROUP
        self.gens = [_generator(seed, g) for g in range(self.first_group, last_group + 1)]
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
        return self._day_buf[self.offset:self.offset + self.count]

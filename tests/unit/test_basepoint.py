"""The fixed-base table gives exactly ecdsa's k·G, at the edges and for random scalars."""

from __future__ import annotations

import secrets

import pytest
from ecdsa import SECP256k1

from wasm_executor.basepoint import WINDOW, mul_g

G, N = SECP256k1.generator, SECP256k1.order
EDGES = [1, 2, 3, (1 << WINDOW) - 1, 1 << WINDOW, (1 << WINDOW) + 1, 2**128, 2**255, N - 2, N - 1,
         int("f" * 64, 16) % N, sum(1 << (WINDOW * i) for i in range(256 // WINDOW))]


@pytest.mark.parametrize("k", EDGES + [secrets.randbelow(N - 1) + 1 for _ in range(40)])
def test_matches_ecdsa(k: int) -> None:
    point = G * k
    assert mul_g(k) == (point.x(), point.y())


@pytest.mark.parametrize("k", [0, N, N + 5, -1])
def test_scalar_out_of_range_is_refused(k: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        mul_g(k)

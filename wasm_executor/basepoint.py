"""k·G on secp256k1, fast: a fixed-base window table, in pure Python.

Signing is one k·G per message, and that multiplication was 80 % of a signature's time
(ecdsa's generic method: a double-and-add over 256 bits). G never changes, so we keep, for
each WINDOW-bit digit position i, the affine points j·2^(WINDOW·i)·G for j = 1..2^WINDOW-1.
Then k·G is one mixed (Jacobian + affine) addition per nonzero digit — 32 for WINDOW = 8 —
and no doublings.

The table (8,160 points, ~1.5 MB) is built on first use; each row is summed in Jacobian
coordinates and made affine with one shared inversion (Montgomery's trick). Results are checked
against ecdsa's arithmetic in tests/unit/test_basepoint.py and signatures against the Go
server's vectors.
"""

from __future__ import annotations

from ecdsa import SECP256k1

WINDOW = 8
_P: int = SECP256k1.curve.p()
_N: int = SECP256k1.order
_G: tuple[int, int] = (SECP256k1.generator.x(), SECP256k1.generator.y())
_DIGITS = -(-256 // WINDOW)
_MASK = (1 << WINDOW) - 1

Affine = tuple[int, int]
Jacobian = tuple[int, int, int]
_table: list[list[Affine]] = []


def _add_affine_to(acc: Jacobian, pt: Affine) -> Jacobian:
    """acc + pt (mixed addition on y² = x³ + 7). Z == 0 in acc stands for infinity."""
    X, Y, Z = acc
    x2, y2 = pt
    p = _P
    if Z == 0:
        return x2, y2, 1
    zz = Z * Z % p
    h = (x2 * zz - X) % p
    r = (y2 * zz % p * Z - Y) % p
    if h == 0:
        return _double(acc) if r == 0 else (0, 0, 0)
    hh = h * h % p
    hhh = h * hh % p
    v = X * hh % p
    X3 = (r * r - hhh - 2 * v) % p
    return X3, (r * (v - X3) - Y * hhh) % p, Z * h % p


def _double(pt: Jacobian) -> Jacobian:
    X, Y, Z = pt
    p = _P
    yy = Y * Y % p
    s = 4 * X * yy % p
    m = 3 * X * X % p
    X3 = (m * m - 2 * s) % p
    return X3, (m * (s - X3) - 8 * yy * yy) % p, 2 * Y * Z % p


def _to_affine_all(points: list[Jacobian]) -> list[Affine]:
    """Normalise many Jacobian points with a single modular inversion."""
    p = _P
    prefix = [1]
    for _, _, z in points:
        prefix.append(prefix[-1] * z % p)
    inv = pow(prefix[-1], -1, p)
    out: list[Affine] = [(0, 0)] * len(points)
    for i in range(len(points) - 1, -1, -1):
        x, y, z = points[i]
        zi = inv * prefix[i] % p  # 1 / z
        inv = inv * z % p
        zi2 = zi * zi % p
        out[i] = (x * zi2 % p, y * zi2 * zi % p)
    return out


def _build_table() -> list[list[Affine]]:
    table = []
    base = _G
    for _ in range(_DIGITS):
        row: list[Jacobian] = [(base[0], base[1], 1)]
        for _ in range(_MASK - 1):
            row.append(_add_affine_to(row[-1], base))
        affine = _to_affine_all(row)
        table.append(affine)
        base = _to_affine_all([_add_affine_to(row[-1], base)])[0]  # 2^WINDOW · base
    return table


def mul_g(k: int) -> Affine:
    """The affine point k·G, for 1 <= k < n."""
    if not 0 < k < _N:
        raise ValueError("scalar out of range")
    if not _table:
        _table.extend(_build_table())
    p, mask = _P, _MASK
    X = Y = Z = 0
    rows = iter(_table)
    for row in rows:  # the first nonzero digit starts the sum
        digit = k & mask
        k >>= WINDOW
        if digit:
            X, Y = row[digit - 1]
            Z = 1
            break
    for row in rows:
        digit = k & mask
        k >>= WINDOW
        if not digit:
            continue
        # The mixed addition of _add_affine_to, inlined: this loop is the hot path of signing.
        x2, y2 = row[digit - 1]
        zz = Z * Z % p
        h = (x2 * zz - X) % p
        r = (y2 * zz % p * Z - Y) % p
        if h == 0:  # P ± P: only for k >= n, which the check above excludes; stay correct anyway
            X, Y, Z = _double((X, Y, Z)) if r == 0 else (0, 0, 0)
            continue
        hh = h * h % p
        hhh = h * hh % p
        v = X * hh % p
        X = (r * r - hhh - 2 * v) % p
        Y = (r * (v - X) - Y * hhh) % p
        Z = Z * h % p
    zi = pow(Z, -1, p)
    zi2 = zi * zi % p
    return X * zi2 % p, Y * zi2 * zi % p

"""TensorFlow's string hashes in NumPy, so learnloop's hash bins equal Keras's.

* ``fingerprint64``: FarmHash Fingerprint64 (``farmhashna::Hash64``), what ``tf.strings.to_hash_bucket_fast`` and
  ``tf.sparse.cross_hashed`` use.
* ``siphash64``: keyed SipHash-2-4 (highwayhash's), what ``tf.strings.to_hash_bucket_strong(key=...)`` uses.
* ``fingerprint_cat64``: TensorFlow's ``FingerprintCat64``, which ``cross_hashed`` folds the features' fingerprints
  with.

Each hash is written once, over values that are either Python ints (one string) or NumPy uint64 arrays (many
strings of the same length, one per row of a byte matrix): NumPy's unsigned arithmetic wraps modulo 2**64 by
itself, and Python ints are masked (``& _M``) after every operation that can leave 64 bits. Callers hash each
distinct value once; strings are grouped by length so a group is one vectorized pass.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

_M = 0xFFFF_FFFF_FFFF_FFFF
_K0, _K1, _K2 = 0xC3A5C85C97CB3127, 0xB492B66FBE98F273, 0x9AE16A3B2F90404F
_CAT_MUL = 0xC6A4A7935BD1E995
_SIP = (0x736F6D6570736575, 0x646F72616E646F6D, 0x6C7967656E657261, 0x7465646279746573)
_VECTOR_MIN = 8            # a length group this large is hashed as one NumPy pass; smaller ones value by value


class _One:
    """Little-endian reads from one string (Python ints)."""

    zero = 0

    def __init__(self, data: bytes):
        self.data = data

    def u64(self, at: int) -> int:
        return int.from_bytes(self.data[at:at + 8], "little")

    def u32(self, at: int) -> int:
        return int.from_bytes(self.data[at:at + 4], "little")

    def u8(self, at: int) -> int:
        return self.data[at]


class _Rows:
    """Little-endian reads from a (strings, length) uint8 matrix, one uint64 per string."""

    def __init__(self, matrix: np.ndarray):
        self.matrix = matrix
        self.zero = np.zeros(len(matrix), dtype=np.uint64)   # makes the running state arrays from the start

    def _read(self, at: int, width: int) -> np.ndarray:
        block = np.ascontiguousarray(self.matrix[:, at:at + width])
        return block.view(f"<u{width}")[:, 0].astype(np.uint64)

    def u64(self, at: int) -> np.ndarray:
        return self._read(at, 8)

    def u32(self, at: int) -> np.ndarray:
        return self._read(at, 4)

    def u8(self, at: int) -> np.ndarray:
        return self.matrix[:, at].astype(np.uint64)


def _rotr(v, shift: int):
    return ((v >> shift) | (v << (64 - shift))) & _M


def _rotl(v, shift: int):
    return ((v << shift) | (v >> (64 - shift))) & _M


def _shift_mix(v):
    return v ^ (v >> 47)


def _len16(u, v, mul):
    a = ((u ^ v) * mul) & _M
    a ^= a >> 47
    b = ((v ^ a) * mul) & _M
    b ^= b >> 47
    return (b * mul) & _M


def _len0to16(r, n: int):
    if n >= 8:
        mul = _K2 + n * 2
        a = (r.u64(0) + _K2) & _M
        b = r.u64(n - 8)
        c = (_rotr(b, 37) * mul + a) & _M
        d = ((_rotr(a, 25) + b) * mul) & _M
        return _len16(c, d, mul)
    if n >= 4:
        return _len16(n + (r.u32(0) << 3), r.u32(n - 4), _K2 + n * 2)
    if n > 0:
        y = r.u8(0) + (r.u8(n >> 1) << 8)
        z = n + (r.u8(n - 1) << 2)
        return (_shift_mix(((y * _K2) & _M) ^ ((z * _K0) & _M)) * _K2) & _M
    return _K2


def _len17to32(r, n: int):
    mul = _K2 + n * 2
    a = (r.u64(0) * _K1) & _M
    b = r.u64(8)
    c = (r.u64(n - 8) * mul) & _M
    d = (r.u64(n - 16) * _K2) & _M
    return _len16((_rotr((a + b) & _M, 43) + _rotr(c, 30) + d) & _M,
                  (a + _rotr((b + _K2) & _M, 18) + c) & _M, mul)


def _len33to64(r, n: int):
    mul = _K2 + n * 2
    a = (r.u64(0) * _K2) & _M
    b = r.u64(8)
    c = (r.u64(n - 8) * mul) & _M
    d = (r.u64(n - 16) * _K2) & _M
    y = (_rotr((a + b) & _M, 43) + _rotr(c, 30) + d) & _M
    z = _len16(y, (a + _rotr((b + _K2) & _M, 18) + c) & _M, mul)
    e = (r.u64(16) * mul) & _M
    f = r.u64(24)
    g = ((y + r.u64(n - 32)) * mul) & _M
    h = ((z + r.u64(n - 24)) * mul) & _M
    return _len16((_rotr((e + f) & _M, 43) + _rotr(g, 30) + h) & _M,
                  (e + _rotr((f + a) & _M, 18) + g) & _M, mul)


def _weak32(r, at: int, a, b):
    """``WeakHashLen32WithSeeds`` over the 32 bytes at ``at``: a pair of 64-bit values."""
    w, x, y, z = r.u64(at), r.u64(at + 8), r.u64(at + 16), r.u64(at + 24)
    a = (a + w) & _M
    b = _rotr((b + a + z) & _M, 21)
    c = a
    a = (a + x + y) & _M
    b = (b + _rotr(a, 44)) & _M
    return (a + z) & _M, (b + c) & _M


def _hash64(r, n: int):
    """``farmhashna::Hash64`` of one string or of a group of strings of length ``n``."""
    if n <= 16:
        return _len0to16(r, n)
    if n <= 32:
        return _len17to32(r, n)
    if n <= 64:
        return _len33to64(r, n)
    x, y = r.zero + 81, r.zero + ((81 * _K1 + 113) & _M)
    z = (_shift_mix((y * _K2 + 113) & _M) * _K2) & _M
    v, w = (r.zero, r.zero), (r.zero, r.zero)
    x = (x * _K2 + r.u64(0)) & _M
    for at in range(0, ((n - 1) // 64) * 64, 64):      # all but the last 1..64 bytes
        x = (_rotr((x + y + v[0] + r.u64(at + 8)) & _M, 37) * _K1) & _M
        y = (_rotr((y + v[1] + r.u64(at + 48)) & _M, 42) * _K1) & _M
        x ^= w[1]
        y = (y + v[0] + r.u64(at + 40)) & _M
        z = (_rotr((z + w[0]) & _M, 33) * _K1) & _M
        v = _weak32(r, at, (v[1] * _K1) & _M, (x + w[0]) & _M)
        w = _weak32(r, at + 32, (z + w[1]) & _M, (y + r.u64(at + 16)) & _M)
        z, x = x, z
    mul = _K1 + ((z & 0xFF) << 1)
    last = n - 64
    w0 = (w[0] + ((n - 1) & 63)) & _M
    v0 = (v[0] + w0) & _M
    w0 = (w0 + v0) & _M
    x = (_rotr((x + y + v0 + r.u64(last + 8)) & _M, 37) * mul) & _M
    y = (_rotr((y + v[1] + r.u64(last + 48)) & _M, 42) * mul) & _M
    x ^= (w[1] * 9) & _M
    y = (y + v0 * 9 + r.u64(last + 40)) & _M
    z = (_rotr((z + w0) & _M, 33) * mul) & _M
    v = _weak32(r, last, (v[1] * mul) & _M, (x + w0) & _M)
    w = _weak32(r, last + 32, (z + w[1]) & _M, (y + r.u64(last + 16)) & _M)
    z, x = x, z
    return _len16((_len16(v[0], w[0], mul) + _shift_mix(y) * _K0 + z) & _M,
                  (_len16(v[1], w[1], mul) + x) & _M, mul)


def _sip_rounds(v0, v1, v2, v3, rounds: int):
    for _ in range(rounds):
        v0 = (v0 + v1) & _M
        v1 = _rotl(v1, 13) ^ v0
        v0 = _rotl(v0, 32)
        v2 = (v2 + v3) & _M
        v3 = _rotl(v3, 16) ^ v2
        v0 = (v0 + v3) & _M
        v3 = _rotl(v3, 21) ^ v0
        v2 = (v2 + v1) & _M
        v1 = _rotl(v1, 17) ^ v2
        v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


def _siphash(r, n: int, key: Sequence[int]):
    """SipHash-2-4 keyed by two 64-bit words, of one string or of a group of strings of length ``n``."""
    k0, k1 = key[0] & _M, key[1] & _M
    v0, v1, v2, v3 = k0 ^ _SIP[0], k1 ^ _SIP[1], k0 ^ _SIP[2], k1 ^ _SIP[3]
    full = n - n % 8
    for at in range(0, full, 8):
        m = r.u64(at)
        v0, v1, v2, v3 = _sip_rounds(v0, v1, v2, v3 ^ m, 2)
        v0 ^= m
    m = (n & 0xFF) << 56                               # the last packet: leftover bytes, then the length byte
    for i in range(n - full):
        m = m | (r.u8(full + i) << (8 * i))
    v0, v1, v2, v3 = _sip_rounds(v0, v1, v2, v3 ^ m, 2)
    v0 ^= m
    v0, v1, v2, v3 = _sip_rounds(v0, v1, v2 ^ 0xFF, v3, 4)
    return v0 ^ v1 ^ v2 ^ v3


def _by_length(values: Sequence[bytes], one, many) -> np.ndarray:
    """Apply ``one(reader, n)`` or ``many(reader, n)`` to each length group; uint64 per value, in input order."""
    out = np.empty(len(values), dtype=np.uint64)
    groups: dict[int, list[int]] = defaultdict(list)
    for i, value in enumerate(values):
        groups[len(value)].append(i)
    for n, rows in groups.items():
        if len(rows) < _VECTOR_MIN:
            out[rows] = [one(_One(values[i]), n) for i in rows]
            continue
        matrix = np.frombuffer(b"".join(values[i] for i in rows), dtype=np.uint8).reshape(len(rows), n)
        out[rows] = np.broadcast_to(np.asarray(many(_Rows(matrix), n), dtype=np.uint64), (len(rows),))
    return out


def fingerprint64(values: Sequence[bytes]) -> np.ndarray:
    """FarmHash Fingerprint64 of each byte string: uint64 array (n,)."""
    return _by_length(values, _hash64, _hash64)


def siphash64(values: Sequence[bytes], key: Sequence[int]) -> np.ndarray:
    """Keyed SipHash-2-4 of each byte string (``key`` is two ints, taken modulo 2**64): uint64 array (n,)."""
    return _by_length(values, lambda r, n: _siphash(r, n, key), lambda r, n: _siphash(r, n, key))


def fingerprint_cat64(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """TensorFlow's ``FingerprintCat64(first, second)``, elementwise over uint64 arrays."""
    first, second = np.asarray(first, dtype=np.uint64), np.asarray(second, dtype=np.uint64)
    result = first ^ np.uint64(_CAT_MUL)
    result ^= _shift_mix(second * np.uint64(_CAT_MUL)) * np.uint64(_CAT_MUL)
    result *= np.uint64(_CAT_MUL)
    result = _shift_mix(result) * np.uint64(_CAT_MUL)
    return _shift_mix(result)


def hash_buckets(values: Sequence[bytes], num_buckets: int, key: Sequence[int] | None = None) -> np.ndarray:
    """``tf.strings.to_hash_bucket_fast`` (``key=None``) or ``to_hash_bucket_strong(key=key)``: int64 (n,)."""
    hashes = fingerprint64(values) if key is None else siphash64(values, key)
    return (hashes % np.uint64(num_buckets)).astype(np.int64)

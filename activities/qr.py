"""A small QR code encoder (ISO/IEC 18004): byte mode, error correction level M, versions 1–10,
rendered as SVG on the server. Enough for a check-in link of up to 213 bytes. The algorithm follows
Project Nayuki's reference implementation (MIT); the tests compare its output with `segno` when
that library is installed."""
from __future__ import annotations

# Level M, indexed by version (index 0 unused).
ECC_CODEWORDS_PER_BLOCK = (-1, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26)
NUM_ERROR_CORRECTION_BLOCKS = (-1, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5)
MAX_VERSION = 10
ECL_M_FORMAT_BITS = 0


def _raw_data_modules(ver: int) -> int:
    result = (16 * ver + 128) * ver + 64
    if ver >= 2:
        numalign = ver // 7 + 2
        result -= (25 * numalign - 10) * numalign - 55
        if ver >= 7:
            result -= 36
    return result


def _data_codewords(ver: int) -> int:
    return _raw_data_modules(ver) // 8 - ECC_CODEWORDS_PER_BLOCK[ver] * NUM_ERROR_CORRECTION_BLOCKS[ver]


def _gf_multiply(x: int, y: int) -> int:
    z = 0
    for i in reversed(range(8)):
        z = (z << 1) ^ ((z >> 7) * 0x11D)
        z ^= ((y >> i) & 1) * x
    return z


def _rs_divisor(degree: int) -> list[int]:
    result = [0] * (degree - 1) + [1]
    root = 1
    for _ in range(degree):
        for j in range(degree):
            result[j] = _gf_multiply(result[j], root)
            if j + 1 < degree:
                result[j] ^= result[j + 1]
        root = _gf_multiply(root, 0x02)
    return result


def _rs_remainder(data: list[int], divisor: list[int]) -> list[int]:
    result = [0] * len(divisor)
    for byte in data:
        factor = byte ^ result.pop(0)
        result.append(0)
        for i, coef in enumerate(divisor):
            result[i] ^= _gf_multiply(coef, factor)
    return result


def _bit(value: int, i: int) -> bool:
    return (value >> i) & 1 != 0


def _alignment_positions(ver: int, size: int) -> list[int]:
    if ver == 1:
        return []
    numalign = ver // 7 + 2
    step = (ver * 8 + numalign * 3 + 5) // (numalign * 4 - 4) * 2
    return list(reversed([size - 7 - i * step for i in range(numalign - 1)] + [6]))


class QrCode:
    def __init__(self, data: bytes, *, version: int | None = None, mask: int | None = None):
        for ver in range(version or 1, (version or MAX_VERSION) + 1):
            count_bits = 8 if ver <= 9 else 16
            if 4 + count_bits + len(data) * 8 <= _data_codewords(ver) * 8:
                break
        else:
            raise ValueError("data too long for a QR code of version ≤ 10")
        self.version = ver
        self.size = ver * 4 + 17
        self.modules = [[False] * self.size for _ in range(self.size)]
        self._function = [[False] * self.size for _ in range(self.size)]
        self._draw_function_patterns()
        self._draw_codewords(self._add_ecc_and_interleave(self._encode(data, count_bits)))
        if mask is None:
            mask = min(range(8), key=self._penalty_with_mask)
        self.mask = mask
        self._apply_mask(mask)
        self._draw_format_bits(mask)

    # --- construction --------------------------------------------------------------------------
    def _set_function(self, x: int, y: int, dark: bool) -> None:
        self.modules[y][x] = dark
        self._function[y][x] = True

    def _draw_function_patterns(self) -> None:
        size = self.size
        for i in range(size):
            self._set_function(6, i, i % 2 == 0)
            self._set_function(i, 6, i % 2 == 0)
        for cx, cy in ((3, 3), (size - 4, 3), (3, size - 4)):
            for dy in range(-4, 5):
                for dx in range(-4, 5):
                    x, y = cx + dx, cy + dy
                    if 0 <= x < size and 0 <= y < size:
                        self._set_function(x, y, max(abs(dx), abs(dy)) not in (2, 4))
        positions = _alignment_positions(self.version, size)
        last = len(positions) - 1
        for i, cx in enumerate(positions):
            for j, cy in enumerate(positions):
                if (i == 0 and j == 0) or (i == 0 and j == last) or (i == last and j == 0):
                    continue
                for dy in range(-2, 3):
                    for dx in range(-2, 3):
                        self._set_function(cx + dx, cy + dy, max(abs(dx), abs(dy)) != 1)
        self._draw_format_bits(0)  # reserves the area; redrawn with the real mask
        if self.version >= 7:
            rem = self.version
            for _ in range(12):
                rem = (rem << 1) ^ ((rem >> 11) * 0x1F25)
            bits = self.version << 12 | rem
            for i in range(18):
                a, b = size - 11 + i % 3, i // 3
                self._set_function(a, b, _bit(bits, i))
                self._set_function(b, a, _bit(bits, i))

    def _draw_format_bits(self, mask: int) -> None:
        data = ECL_M_FORMAT_BITS << 3 | mask
        rem = data
        for _ in range(10):
            rem = (rem << 1) ^ ((rem >> 9) * 0x537)
        bits = (data << 10 | rem) ^ 0x5412
        size = self.size
        for i in range(6):
            self._set_function(8, i, _bit(bits, i))
        self._set_function(8, 7, _bit(bits, 6))
        self._set_function(8, 8, _bit(bits, 7))
        self._set_function(7, 8, _bit(bits, 8))
        for i in range(9, 15):
            self._set_function(14 - i, 8, _bit(bits, i))
        for i in range(8):
            self._set_function(size - 1 - i, 8, _bit(bits, i))
        for i in range(8, 15):
            self._set_function(8, size - 15 + i, _bit(bits, i))
        self._set_function(8, size - 8, True)

    def _encode(self, data: bytes, count_bits: int) -> list[int]:
        bits: list[int] = []

        def append(value: int, length: int) -> None:
            bits.extend((value >> i) & 1 for i in reversed(range(length)))

        append(0b0100, 4)
        append(len(data), count_bits)
        for byte in data:
            append(byte, 8)
        capacity = _data_codewords(self.version) * 8
        append(0, min(4, capacity - len(bits)))
        append(0, -len(bits) % 8)
        pad = 0xEC
        while len(bits) < capacity:
            append(pad, 8)
            pad ^= 0xEC ^ 0x11
        return [int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8)]

    def _add_ecc_and_interleave(self, data: list[int]) -> list[int]:
        ver = self.version
        numblocks, blockecclen = NUM_ERROR_CORRECTION_BLOCKS[ver], ECC_CODEWORDS_PER_BLOCK[ver]
        rawcodewords = _raw_data_modules(ver) // 8
        numshortblocks = numblocks - rawcodewords % numblocks
        shortblocklen = rawcodewords // numblocks
        divisor = _rs_divisor(blockecclen)
        blocks, k = [], 0
        for i in range(numblocks):
            dat = data[k : k + shortblocklen - blockecclen + (0 if i < numshortblocks else 1)]
            k += len(dat)
            ecc = _rs_remainder(dat, divisor)
            if i < numshortblocks:
                dat.append(0)
            blocks.append(dat + ecc)
        result = []
        for i in range(len(blocks[0])):
            for j, block in enumerate(blocks):
                if i != shortblocklen - blockecclen or j >= numshortblocks:
                    result.append(block[i])
        return result

    def _draw_codewords(self, data: list[int]) -> None:
        size, i = self.size, 0
        right = size - 1
        while right >= 1:
            if right == 6:
                right = 5
            for vert in range(size):
                for j in range(2):
                    x = right - j
                    upward = ((right + 1) & 2) == 0
                    y = size - 1 - vert if upward else vert
                    if not self._function[y][x] and i < len(data) * 8:
                        self.modules[y][x] = _bit(data[i >> 3], 7 - (i & 7))
                        i += 1
            right -= 2

    @staticmethod
    def _mask_bit(mask: int, x: int, y: int) -> bool:
        return (
            (x + y) % 2 == 0, y % 2 == 0, x % 3 == 0, (x + y) % 3 == 0, (x // 3 + y // 2) % 2 == 0,
            x * y % 2 + x * y % 3 == 0, (x * y % 2 + x * y % 3) % 2 == 0, ((x + y) % 2 + x * y % 3) % 2 == 0,
        )[mask]

    def _apply_mask(self, mask: int) -> None:
        for y in range(self.size):
            for x in range(self.size):
                if not self._function[y][x] and self._mask_bit(mask, x, y):
                    self.modules[y][x] = not self.modules[y][x]

    def _penalty_with_mask(self, mask: int) -> int:
        self._apply_mask(mask)
        self._draw_format_bits(mask)
        score = self._penalty()
        self._apply_mask(mask)  # XOR again: undo
        return score

    def _penalty(self) -> int:
        size, rows = self.size, self.modules
        lines = ["".join("1" if v else "0" for v in row) for row in rows]
        lines += ["".join("1" if rows[y][x] else "0" for y in range(size)) for x in range(size)]
        score = 0
        for line in lines:
            run, previous = 0, None
            for ch in line:
                if ch == previous:
                    run += 1
                else:
                    if run >= 5:
                        score += run - 2
                    run, previous = 1, ch
            if run >= 5:
                score += run - 2
            padded = "0000" + line + "0000"
            for pattern in ("00001011101", "10111010000"):
                start = padded.find(pattern)
                while start != -1:
                    score += 40
                    start = padded.find(pattern, start + 1)
        for y in range(size - 1):
            for x in range(size - 1):
                if rows[y][x] == rows[y][x + 1] == rows[y + 1][x] == rows[y + 1][x + 1]:
                    score += 3
        dark = sum(sum(row) for row in rows)
        total = size * size
        score += ((abs(dark * 20 - total * 10) + total - 1) // total - 1) * 10
        return score

    # --- output --------------------------------------------------------------------------------
    def svg(self, *, border: int = 4, css_class: str = "qr-code") -> str:
        """An SVG whose dark modules form one path; scales to any size without blurring."""
        parts = []
        for y in range(self.size):
            for x in range(self.size):
                if self.modules[y][x]:
                    parts.append(f"M{x + border},{y + border}h1v1h-1z")
        dim = self.size + border * 2
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" viewBox="0 0 {dim} {dim}" '
            f'shape-rendering="crispEdges" role="img"><rect width="100%" height="100%" fill="#fff"/>'
            f'<path d="{"".join(parts)}" fill="#000"/></svg>'
        )


def qr_svg(text: str, **kwargs) -> str:
    return QrCode(text.encode("utf-8")).svg(**kwargs)

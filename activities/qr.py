"""QR codes for check-in links, drawn on the server as inline SVG with `segno`."""
from __future__ import annotations

import segno


def qr_svg(text: str, *, css_class: str = "qr-code") -> str:
    """An SVG without a fixed size (it fills its container), error correction level M, with the
    standard four-module quiet zone."""
    code = segno.make(text, error="m", micro=False, boost_error=False)
    return code.svg_inline(border=4, omitsize=True, svgclass=css_class, dark="#000", light="#fff")

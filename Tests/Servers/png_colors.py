#!/usr/bin/env python3
"""Counts the pixels of given colours in a PNG (8-bit RGB or RGBA, not
interlaced, as Chromium writes screenshots), with the standard library
only. Prints one JSON object: {"width", "height", "counts": {"#rrggbb": n},
"distinct": number of distinct colours}.

    python3 png_colors.py FILE.png '#ffb74d' '#81c784'
"""
import json
import struct
import sys
import zlib

data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
position, idat, header = 8, b"", None
while position < len(data):
    length, kind = struct.unpack(">I4s", data[position:position + 8])
    chunk = data[position + 8:position + 8 + length]
    if kind == b"IHDR":
        header = struct.unpack(">IIBBBBB", chunk)
    elif kind == b"IDAT":
        idat += chunk
    position += 12 + length
width, height, depth, colour, _, _, interlace = header
assert depth == 8 and colour in (2, 6) and interlace == 0, f"unsupported PNG {header}"
channels = 3 if colour == 2 else 4
raw = zlib.decompress(idat)
stride = width * channels
previous = bytearray(stride)
wanted = {name.lower(): tuple(int(name[i:i + 2], 16) for i in (1, 3, 5)) for name in sys.argv[2:]}
counts = {name: 0 for name in wanted}
lookup = {rgb: name for name, rgb in wanted.items()}
distinct = set()
offset = 0
for _ in range(height):
    kind = raw[offset]
    line = bytearray(raw[offset + 1:offset + 1 + stride])
    offset += 1 + stride
    for i in range(stride):
        left = line[i - channels] if i >= channels else 0
        up = previous[i]
        corner = previous[i - channels] if i >= channels else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
        elif kind == 4:
            estimate = left + up - corner
            pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
            line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
    for x in range(0, stride, channels):
        rgb = (line[x], line[x + 1], line[x + 2])
        if len(distinct) < 100000:
            distinct.add(rgb)
        name = lookup.get(rgb)
        if name:
            counts[name] += 1
    previous = line
print(json.dumps({"width": width, "height": height, "counts": counts, "distinct": len(distinct)}))

#!/usr/bin/env python3
"""Makes Jazzer.js 4.0.0's prebuilt native fuzzer load on Debian 12 (glibc 2.36).

Why: @jazzer.js/fuzzer ships prebuilds/fuzzer-linux-x64.node built against
glibc 2.38 and GCC 13's libstdc++. It needs GLIBC_2.38 only for
__isoc23_strtol and __isoc23_strtoul (C23's strtol/strtoul, which differ
from the old ones only in accepting a "0b" prefix) and GLIBCXX_3.4.32 only
for std::ios_base_library_init() (GCC 13's iostream initialisation hook).
The loader refuses the whole module ("version `GLIBC_2.38' not found").
The package ships no sources to rebuild from.

What: marks those two version requirements weak (vna_flags |= VER_FLG_WEAK,
the one field changed per requirement; the loader then accepts the module
without those versions), keeping a copy of the original as *.orig. run.sh
then preloads compat_shim.cc's build, which defines the three functions.
Idempotent. Usage: glibc_compat.py PATH/fuzzer-linux-x64.node
"""
import shutil
import struct
import sys

SHT_GNU_VERNEED = 0x6FFFFFFE
VER_FLG_WEAK = 0x2
WANT = (b"GLIBC_2.38", b"GLIBCXX_3.4.32")


def main(path):
    data = bytearray(open(path, "rb").read())
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, "not a 64-bit little-endian ELF"
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    patched = 0
    for (_name, stype, _fl, _addr, off, _size, link, info, _al, _es) in sections:
        if stype != SHT_GNU_VERNEED:
            continue
        stroff = sections[link][4]  # the linked string table (.dynstr)
        pos = off
        for _ in range(info):  # info = number of Verneed entries
            _ver, cnt, _file, aux, nxt = struct.unpack_from("<HHIII", data, pos)
            apos = pos + aux
            for _ in range(cnt):
                _hash, flags, _other, name, anext = struct.unpack_from("<IHHII", data, apos)
                end = data.index(b"\0", stroff + name)
                if bytes(data[stroff + name:end]) in WANT and not flags & VER_FLG_WEAK:
                    struct.pack_into("<H", data, apos + 4, flags | VER_FLG_WEAK)
                    patched += 1
                apos += anext
            pos += nxt
    if patched:
        shutil.copyfile(path, path + ".orig")
        with open(path, "wb") as f:
            f.write(data)
    print(f"{path}: {patched} requirement(s) of GLIBC_2.38/GLIBCXX_3.4.32 made weak")


if __name__ == "__main__":
    main(sys.argv[1])

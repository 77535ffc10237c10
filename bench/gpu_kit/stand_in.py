#!/usr/bin/env python3
"""Builds a stand-in for a shared library: the same SONAME and the same exported symbols and versions, every
function a trap and every object zero-filled. The GPU kit (pack.py) puts stand-ins in place of codec and solver
libraries that the GPU figures never call but that the binaries' dynamic linking still asks for, so the kit fits
what travels to a bare GPU machine. A stand-in that is called stops the program with SIGILL, never silently.

  stand_in.py LIBRARY OUT_DIR
"""
import os
import re
import subprocess
import sys
import tempfile


def exported_symbols(library):
    """(name, kind, size, version or None), default versions only; each name once."""
    out = subprocess.run(["nm", "-D", "--defined-only", "-S", "--with-symbol-versions", library],
                         capture_output=True, text=True, check=True).stdout
    symbols, seen = [], set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4:
            _, size, kind, name = parts
        elif len(parts) == 3:
            _, kind, name = parts
            size = "1"
        else:
            continue
        if kind == "A" or ("@" in name and "@@" not in name):
            continue  # version nodes themselves; non-default versions of a name
        name, _, version = name.partition("@@")
        if name in seen:
            continue
        seen.add(name)
        symbols.append((name, kind, max(1, int(size, 16)), version or None))
    return symbols


def main():
    library, out_dir = sys.argv[1], sys.argv[2]
    dynamic = subprocess.run(["readelf", "-d", library], capture_output=True, text=True, check=True).stdout
    soname = re.search(r"SONAME.*\[(.*)\]", dynamic).group(1)
    symbols = exported_symbols(library)
    nodes = sorted({v for *_, v in symbols if v})
    nodes += [n for n in re.findall(r"\bA (\S+)", subprocess.run(
        ["nm", "-D", "--defined-only", library], capture_output=True, text=True).stdout) if n not in nodes]
    with tempfile.TemporaryDirectory() as tmp:
        source, script = os.path.join(tmp, "stand_in.c"), os.path.join(tmp, "stand_in.map")
        with open(source, "w") as f:
            for i, (name, kind, size, _) in enumerate(symbols):
                if kind in "TtWiI":
                    f.write(f'void f{i}(void) __asm__("{name}");\nvoid f{i}(void) {{ __builtin_trap(); }}\n')
                else:
                    f.write(f'char o{i}[{size}] __asm__("{name}");\n')
        command = ["gcc", "-shared", "-fPIC", "-O0", "-o", os.path.join(out_dir, soname), source,
                   f"-Wl,-soname,{soname}"]
        if nodes:
            # Unversioned names join the last node: a reference without a version binds to the default one.
            members = {n: [s for s, _, _, v in symbols if v == n] for n in nodes}
            members[nodes[-1]] += [s for s, _, _, v in symbols if v is None]
            with open(script, "w") as f:
                for n in nodes:
                    f.write(f"{n} {{ global: {'; '.join(members[n])}; }};\n" if members[n] else f"{n} {{ }};\n")
            command.append(f"-Wl,--version-script={script}")
        subprocess.run(command, check=True)
    print(f"{soname}: stand-in with {len(symbols)} symbols")


if __name__ == "__main__":
    main()

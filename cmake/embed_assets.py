#!/usr/bin/python3
"""Embed the dashboard's files (ui/) in a C source file: no CDN, no build
step that needs the network.  usage: embed_assets.py OUT.c FILE..."""
import os
import sys

TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}

dst, files = sys.argv[1], sys.argv[2:]
with open(dst, "w", encoding="ascii") as out:
    out.write("/* generated from ui/ by cmake/embed_assets.py; do not edit */\n")
    out.write("#include \"server/ui_assets.h\"\n")
    for i, path in enumerate(files):
        with open(path, "rb") as f:
            data = f.read()
        out.write("static const unsigned char a%d[] = {\n" % i)
        for k in range(0, len(data), 20):
            out.write(",".join(str(b) for b in data[k:k + 20]) + ",\n")
        out.write("0};\n")
    out.write("const struct ui_asset ui_assets[] = {\n")
    for i, path in enumerate(files):
        name = os.path.basename(path)
        url = "/ui/" if name == "index.html" else "/ui/" + name
        out.write('    {"%s", "%s", a%d, %d},\n' % (url, TYPES[os.path.splitext(name)[1]], i,
                                                 os.path.getsize(path)))
    out.write("    {0, 0, 0, 0},\n};\n")

#!/usr/bin/python3
"""Convert openapi.yaml to compact JSON and emit it as a C source file."""
import json
import sys

import yaml

src, dst = sys.argv[1], sys.argv[2]
with open(src, encoding="utf-8") as f:
    doc = yaml.safe_load(f)
text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
with open(dst, "w", encoding="ascii") as out:
    out.write("/* generated from openapi/openapi.yaml; do not edit */\n")
    out.write("#include <stddef.h>\n#include \"routes/api/openapi.h\"\n")
    out.write("const char openapi_json[] = {\n")
    for i in range(0, len(text), 20):
        out.write(",".join(str(b) for b in text[i:i + 20]) + ",\n")
    out.write("0};\n")
    out.write("const size_t openapi_json_len = %d;\n" % len(text))

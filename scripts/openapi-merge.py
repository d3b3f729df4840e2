#!/usr/bin/env python3
"""Merge an API package's openapi.yaml fragment into web/openapi/openapi.yaml.

Usage: scripts/openapi-merge.py path/to/openapi.yaml [...]

A fragment has top-level `tags:`, `paths:` and `components:` with
`schemas:`. Its tags go at the end of the main document's tags, its paths
before `components:`, its schemas at the end of the file (where the
schemas section ends). Anything of the fragment already in the document
(the same path or schema name) is replaced, so running it again after
editing a fragment updates the document. The package's TestOpenAPIFragment
checks the result.
"""
import re
import sys

MAIN = "web/openapi/openapi.yaml"


def blocks(text, indent):
    """Split text into (key, block) items at lines with exactly `indent` spaces then a key."""
    pat = re.compile(r"^" + " " * indent + r"(\S[^:]*):", re.M)
    starts = [(m.start(), m.group(1)) for m in pat.finditer(text)]
    out = []
    for i, (pos, key) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        out.append((key.strip().strip('"'), text[pos:end].rstrip("\n") + "\n"))
    return out


def section(text, name, nxt):
    i = text.index("\n" + name + ":\n") + len(name) + 2
    j = text.index("\n" + nxt, i) if nxt else len(text)
    return text[i:j]


def main():
    doc = open(MAIN).read()
    for frag_path in sys.argv[1:]:
        frag = open(frag_path).read()
        tags = section(frag, "tags", "paths:").rstrip("\n")
        paths = blocks(section(frag, "paths", "components:"), 2)
        schemas = blocks(frag[frag.index("\n  schemas:\n") + len("\n  schemas:\n"):], 4)
        for key, block in paths:
            m = re.search(r"^  " + re.escape(key) + r":\n(?:(?:    .*|\s*)\n)*", doc, re.M)
            if m:
                doc = doc[: m.start()] + block + doc[m.end():]
            else:
                i = doc.index("\ncomponents:\n")
                doc = doc[:i] + "\n" + block.rstrip("\n") + doc[i:]
        for key, block in schemas:
            m = re.search(r"^    " + re.escape(key) + r":\n(?:(?:      .*|\s*)\n)*", doc, re.M)
            if m:
                doc = doc[: m.start()] + block + "\n" + doc[m.end():]
            else:
                doc = doc.rstrip("\n") + "\n\n" + block
        for tag in re.findall(r"^  - name: (\S+)", tags, re.M):
            if not re.search(r"^  - name: " + re.escape(tag) + r"$", doc, re.M):
                i = doc.index("\n\npaths:\n")
                doc = doc[:i] + "\n" + tags + doc[i:]
                break
    open(MAIN, "w").write(doc.rstrip("\n") + "\n")


if __name__ == "__main__":
    main()

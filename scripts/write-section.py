#!/usr/bin/env python3
"""write-section.py NAME TABLE [DOC]: put the text of the file TABLE between
the <!-- NAME:begin --> and <!-- NAME:end --> markers of DOC (BENCHMARKS.md),
or append it with the markers when DOC has none."""
import re
import sys

name, table_path = sys.argv[1], sys.argv[2]
path = sys.argv[3] if len(sys.argv) > 3 else "BENCHMARKS.md"
table = open(table_path).read()
doc = open(path).read()
begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
new = begin + "\n" + table + end
if begin in doc:
    doc = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda m: new, doc, flags=re.S)
else:
    doc += "\n" + new + "\n"
open(path, "w").write(doc)

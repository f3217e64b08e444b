"""Write the project-authored demo battery (scripts/demo_content.py) as JSON lines.

    python scripts/write_demo_battery.py bundle/battery/demo.jsonl

One JSON object per line, keys sorted, UTF-8 (ensure_ascii=False), "\\n" line ends, so the file's
bytes (and its SHA-256 in the manifest) depend only on demo_content.py.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import demo_content


def render() -> bytes:
    lines = [
        json.dumps(item, sort_keys=True, ensure_ascii=False) + "\n"
        for item in demo_content.battery_items()
    ]
    return "".join(lines).encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="output .jsonl path")
    args = parser.parse_args(argv)
    data = render()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    n_lines = data.count(b"\n")
    print(
        f"wrote {args.out}: {n_lines} items, {len(data)} bytes, "
        f"sha256 {hashlib.sha256(data).hexdigest()}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

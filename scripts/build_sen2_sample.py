"""Build data/sample/isle-of-wight/sen2/ from the DfE EHC plans release in ../shared/data/send.

For maintainers.

Keeps the files as published (same columns, same header, same row order, cells untouched) and
only the rows of Isle of Wight (E06000046, 921) and Southampton (E06000045, 852). Usage::

    python scripts/build_sen2_sample.py --shared ../shared/data/send \\
        --out data/sample/isle-of-wight/sen2
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

AUTHORITIES = {"E06000046": "921", "E06000045": "852"}  # Isle of Wight, Southampton
TABLES = ("caseload", "sen_needs_all_plans", "newplans", "ceased_plans", "sen_need_newplans")

PROVENANCE = """# SEN2 sample: DfE "Education, health and care plans" release 2025

Derived sample data, **as published** (same columns and cell values, `x`/`c`/`z` left as they are),
keeping only the rows for Isle of Wight (`E06000046`, `921`) and Southampton (`E06000045`, `852`)
and the header.

- Source: Department for Education, *Education, health and care plans*, reporting year 2025,
  explore-education-statistics.service.gov.uk (files `ehcp2025_*`).
- Licence: Open Government Licence v3.0
  (https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/).
  Contains public sector information licensed under the Open Government Licence v3.0.
- Built by `scripts/build_sen2_sample.py` from `../shared/data/send`; do not edit by hand.

Files: {files}

Use: `placeplan forecast --sen2 data/sample/isle-of-wight/sen2 --la 921 --out forecast.csv`.
"""


def build(shared: Path, out: Path) -> list[Path]:
    """Write the filtered files and PROVENANCE.md; return the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for table in TABLES:
        matches = sorted(p for p in shared.glob(f"ehcp*_{table}_*.csv"))
        if not matches:
            msg = f"no ehcp*_{table}_*.csv in {shared}"
            raise SystemExit(msg)
        src = matches[0]
        dest = out / f"ehcp2025_{table}_iow-southampton.csv"
        with src.open(newline="", encoding="utf-8-sig") as fin:
            lines = fin.read().splitlines(keepends=True)
        header = next(csv.reader([lines[0]]))
        i_new, i_old = header.index("new_la_code"), header.index("old_la_code")
        kept = [lines[0]]
        for line in lines[1:]:
            row = next(csv.reader([line]))
            if row[i_new] in AUTHORITIES and AUTHORITIES[row[i_new]] == row[i_old]:
                kept.append(line)
        dest.write_text("".join(kept), encoding="utf-8")
        written.append(dest)
    names = ", ".join(f"`{p.name}`" for p in written)
    (out / "PROVENANCE.md").write_text(PROVENANCE.format(files=names), encoding="utf-8")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared/data/send"))
    parser.add_argument("--out", type=Path, default=Path("data/sample/isle-of-wight/sen2"))
    args = parser.parse_args()
    for path in build(args.shared, args.out):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()

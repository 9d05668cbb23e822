"""Writing published tables: one CSV writer for every table placeplan publishes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["write_csv"]


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    tmp = path.with_suffix(path.suffix + ".tmp")
    df.to_csv(tmp, index=False)
    tmp.replace(path)
    return path

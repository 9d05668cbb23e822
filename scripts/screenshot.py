#!/usr/bin/env python3
"""Screenshot an HTML file in headless Chromium with the network blocked.

Used by maintainers to check that the report and maps render offline, and by an optional test
(skipped where Chromium is absent). Every host name resolves to nothing and all traffic goes to a
dead proxy, so a page that still needs a CDN renders blank or broken — which is the point.

Usage::

    python scripts/screenshot.py report.html out.png [--width 1200] [--height 800] [--wait-ms 5000]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "/usr/lib/chromium/chromium")


def find_chromium() -> str | None:
    """Return the path of a Chromium/Chrome executable, or None."""
    for name in CANDIDATES:
        found = shutil.which(name) or (name if Path(name).is_file() else None)
        if found:
            return found
    return None


def screenshot(
    html: str | Path,
    png: str | Path,
    *,
    width: int = 1200,
    height: int = 800,
    wait_ms: int = 5000,
    chromium: str | None = None,
    timeout_s: float = 120.0,
) -> Path:
    """Render ``html`` in headless Chromium, network blocked, and write ``png``.

    Parameters
    ----------
    html
        Local HTML file.
    png
        Output PNG path.
    width, height
        Window size in CSS pixels (the screenshot is the window, not the full page).
    wait_ms
        Virtual time budget for scripts to run before the shot.
    chromium
        Browser executable; found on PATH when None.
    timeout_s
        Wall-clock limit for the browser process.

    Returns
    -------
    pathlib.Path
        The PNG path.

    Raises
    ------
    FileNotFoundError
        If no browser is found or the input does not exist.
    RuntimeError
        If the browser fails or writes no PNG.
    """
    html, png = Path(html).resolve(), Path(png).resolve()
    if not html.is_file():
        raise FileNotFoundError(html)
    exe = chromium or find_chromium()
    if exe is None:
        msg = "no chromium found (apt-get install -y chromium)"
        raise FileNotFoundError(msg)
    png.parent.mkdir(parents=True, exist_ok=True)
    if png.exists():
        png.unlink()
    with tempfile.TemporaryDirectory(prefix="pp-chromium-") as profile:
        cmd = [
            exe,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=http://127.0.0.1:9",
            "--disable-background-networking",
            "--no-first-run",
            f"--window-size={width},{height}",
            f"--virtual-time-budget={wait_ms}",
            f"--screenshot={png}",
            html.as_uri(),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    if proc.returncode != 0 or not png.is_file():
        msg = f"chromium failed ({proc.returncode}): {proc.stderr[-800:]}"
        raise RuntimeError(msg)
    return png


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("html", type=Path)
    p.add_argument("png", type=Path)
    p.add_argument("--width", type=int, default=1200)
    p.add_argument("--height", type=int, default=800)
    p.add_argument("--wait-ms", type=int, default=5000)
    a = p.parse_args(argv)
    try:
        out = screenshot(a.html, a.png, width=a.width, height=a.height, wait_ms=a.wait_ms)
    except (FileNotFoundError, RuntimeError) as exc:
        print(f"screenshot: {exc}", file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

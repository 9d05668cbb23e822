"""One county-scale measurement in a fresh process (so peak memory is this run's own).

usage: python benchmarks/_county_run.py {grid|tiled} N_JOBS
Prints one JSON line.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
ROOT = Path(__file__).parents[1]
SAMPLE = ROOT / "data/sample/isle-of-wight"


def _rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def main() -> None:
    kind, n_jobs = sys.argv[1], int(sys.argv[2])
    import pandas as pd

    from placeplan import settings
    from placeplan.compute import matrix, network

    settings.progress = False
    base_mb = _rss_mb(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    if kind == "grid":
        from _county import county_network, county_points

        net = county_network()
        build_s = time.perf_counter() - t0
        origins = county_points(net, 25_000, 1, "o")
        dests = county_points(net, 600, 2, "d")
    else:
        from _county import tiled_network, tiled_points

        base = network.load_network(SAMPLE / "roads-drive.osm.pbf", use_cache=False)
        net, off = tiled_network(base)
        build_s = time.perf_counter() - t0
        pc = pd.read_csv(SAMPLE / "postcodes.csv")
        pc = pc[(pc.lad_code == "E06000046") & pc.date_terminated.isna() & (pc.easting > 0)]
        pts = pd.DataFrame({"x": pc.easting.to_numpy(float), "y": pc.northing.to_numpy(float)})
        origins = tiled_points(pts, off, 25_000, 1, "o")
        pv = pd.read_csv(SAMPLE / "provision.csv")
        pv = pv[pv.in_area.astype(str).str.lower() == "true"]
        sites = pd.DataFrame({"x": pv.easting.to_numpy(float), "y": pv.northing.to_numpy(float)})
        dests = tiled_points(sites, off, 600, 2, "d")
    rss_net = _rss_mb(resource.RUSAGE_SELF)
    import os
    import warnings

    c0 = os.times()
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiles replicate the island's few far-off postcodes
        m = matrix.travel_matrix(
            net, origins, dests, max_travel_time_min=90, use_cache=False, n_jobs=n_jobs
        )
    matrix_s = time.perf_counter() - t0
    c1 = os.times()
    print(
        json.dumps(
            {
                "kind": kind,
                "n_jobs": n_jobs,
                "nodes": net.n_nodes,
                "edges": net.n_edges,
                "origins": len(origins),
                "destinations": len(dests),
                "build_s": build_s,
                "matrix_s": matrix_s,
                "cpu_main_s": c1.user + c1.system - c0.user - c0.system,
                "cpu_workers_s": c1.children_user
                + c1.children_system
                - c0.children_user
                - c0.children_system,
                "load_avg": os.getloadavg()[0],
                "rows": len(m),
                "share_within_cutoff": float(m.travel_time_min.notna().mean()),
                "matrix_frame_mb": float(m.memory_usage(deep=True).sum() / 2**20),
                "peak_rss_mb": _rss_mb(resource.RUSAGE_SELF),
                "peak_rss_workers_mb": _rss_mb(resource.RUSAGE_CHILDREN),
                "rss_after_imports_mb": base_mb,
                "rss_after_network_mb": rss_net,
            }
        )
    )


if __name__ == "__main__":
    main()

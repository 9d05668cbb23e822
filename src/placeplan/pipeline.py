"""The orchestrator: ``run(plan)`` = :func:`~placeplan.prepare.prepare` then
:func:`~placeplan.compute.compute`; :func:`~placeplan.publish.publish` writes the results.

Data flow one way, prepare → compute → publish; every stage logs one summary line with its time and
nothing pupil-level is logged or published.
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING

from tqdm.auto import tqdm

from placeplan.compute.programme_plan import optimise_plan
from placeplan.compute.run import COMPUTE_STAGES, RunResult, compute
from placeplan.prepare.inputs import prepare
from placeplan.publish import publish
from placeplan.settings import settings

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from placeplan.config import PlanConfig

__all__ = ["STAGES", "run", "run_and_publish"]

logger = logging.getLogger(__name__)

#: Every stage of a run, in order.
STAGES = ("inputs", *COMPUTE_STAGES, "programme", "outputs")


class _Stages:
    """Times stages, logs one line each and drives a progress bar over them."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.timings: dict[str, float] = {}
        self.bar = tqdm(
            total=len(names),
            desc="placeplan",
            unit="stage",
            disable=None if settings.progress else True,
        )

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.bar.set_postfix_str(name)
        t0 = time.perf_counter()
        yield
        self.timings[name] = time.perf_counter() - t0
        logger.info("stage %-10s done in %.2f s", name, self.timings[name])
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def _run(plan: PlanConfig, stages: _Stages) -> RunResult:
    with stages.stage("inputs"):
        inputs = prepare(plan)
    result = compute(plan, inputs, timer=stages)
    with stages.stage("programme"):
        # the capital programme a board would choose ([optimise]; `placeplan optimise` alone),
        # from the journeys, transport rate and baseline flows this run has computed
        if plan.optimise.budget_by_fy_gbp:
            study = optimise_plan(plan, inputs, result.programme_inputs)
            result = replace(result, programme=study)
    return result


def run(plan: PlanConfig) -> RunResult:
    """Run a whole plan: inputs to results (nothing is written).

    Parameters
    ----------
    plan
        A loaded plan (:func:`placeplan.load_plan`).

    Returns
    -------
    RunResult
        Allocations, impacts, scores, projections, every spatial layer and stage timings.

    Raises
    ------
    PlaceplanError
        Any input, configuration, network or model error, with a message saying how to fix it.

    Examples
    --------
    >>> import placeplan
    >>> plan = placeplan.load_plan("data/sample/isle-of-wight/plan.toml")  # doctest: +SKIP
    >>> result = placeplan.run(plan)  # doctest: +SKIP
    >>> result.impacts["Four inclusion bases"].table.head()  # doctest: +SKIP
    """
    stages = _Stages(STAGES[:-1])
    try:
        result = _run(plan, stages)
    finally:
        stages.close()
    return replace(result, timings_s=stages.timings)


def run_and_publish(
    plan: PlanConfig, out_dir: str | Path | None = None
) -> tuple[RunResult, dict[str, Path]]:
    """Run a plan and publish its outputs (what ``placeplan run`` does).

    Returns
    -------
    tuple of RunResult and dict of str to Path
        The results (stage timings include ``"outputs"``) and every file written.
    """
    stages = _Stages(STAGES)
    try:
        result = _run(plan, stages)
        with stages.stage("outputs"):
            outputs = publish(result, out_dir)
    finally:
        stages.close()
    return replace(result, timings_s=stages.timings), outputs

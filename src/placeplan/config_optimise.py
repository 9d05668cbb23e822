"""The ``[optimise]`` table of a plan: the capital programme ``placeplan optimise`` chooses.

Kept beside :mod:`placeplan.config` (which re-exports every name here) so the plan model stays
within the module size budget; :func:`budget_years_problem` is the check the whole plan runs
against ``[flows]`` (a financial year's budget must open places within the modelled years).
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, field_validator

__all__ = ["OptimiseConfig", "SizeOption", "budget_years_problem"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SizeOption(_Strict):
    """One size a new base can be built at: places and its capital cost."""

    places: int = Field(gt=0, strict=True)
    capital_gbp: float = Field(ge=0, strict=True, allow_inf_nan=False)


def budget_years_problem(
    budget_by_fy_gbp: dict[str, float], base_year: int, horizon_year: int
) -> str | None:
    """Return why a financial year of ``[optimise] budget_by_fy_gbp`` could buy nothing, or None.

    A financial year's capital opens places the following September (``"2026-27"`` → 2027);
    the programme models the academic years ``base_year + 1`` to ``horizon_year`` (``[flows]``),
    so a financial year opening outside them would count in the budget and the budget curve but
    could never be spent.

    Parameters
    ----------
    budget_by_fy_gbp
        Capital by financial year (labels already checked to look like ``"2026-27"``).
    base_year, horizon_year
        ``flows.base_year`` and ``flows.horizon_year``.

    Returns
    -------
    str or None
        The message naming the key, the financial year, the modelled years and the financial
        years that would count; None when every financial year opens within them.

    Examples
    --------
    >>> budget_years_problem({"2026-27": 1.0}, 2025, 2030) is None
    True
    """
    first, last = base_year + 1, horizon_year
    if budget_by_fy_gbp and first > last:
        return (
            f"`optimise.budget_by_fy_gbp` needs modelled years to open places in, but "
            f"`flows.horizon_year` ({horizon_year}) is not after `flows.base_year` ({base_year}); "
            f"set `flows.horizon_year` to {base_year + 1} or later (e.g. {base_year + 5})"
        )
    outside = sorted(fy for fy in budget_by_fy_gbp if not first <= int(fy[:4]) + 1 <= last)
    if not outside:
        return None
    fy = outside[0]

    def label(opening: int) -> str:
        return f"{opening - 1}-{opening % 100:02d}"

    return (
        f"`optimise.budget_by_fy_gbp` {fy!r} pays for places opening in September "
        f"{int(fy[:4]) + 1}, outside the modelled years {first}/{(first + 1) % 100:02d} to "
        f"{last}/{(last + 1) % 100:02d} (`flows.base_year` + 1 to `flows.horizon_year`), so it "
        f"could buy nothing; use financial years {label(first)} to {label(last)}, or change "
        "`flows.horizon_year`"
    )


class OptimiseConfig(_Strict):
    """The ``[optimise]`` table: the capital programme ``placeplan optimise`` chooses.

    Sites, sizes and opening years within a capital budget per financial year, for one
    objective, using future demand from the baseline placement-flow run (``[flows]``). Numbers
    are strict: a string ("800000") or a boolean (``true``) where TOML has a number is refused,
    not coerced (``true`` would be a budget of £1).
    """

    objective: Literal["ooa_avoided", "net_saving_gbp", "pupil_minutes", "within_max_journey"] = (
        Field(default="ooa_avoided", description="what the programme maximises")
    )
    sizes: tuple[SizeOption, ...] = Field(
        default=(),
        description="sizes offered at every site (up to its `places`); "
        "default: each site's own places and capital_cost_gbp",
    )
    min_size: int = Field(default=0, ge=0, strict=True, description="smallest viable base (places)")
    budget_by_fy_gbp: dict[str, StrictFloat] = Field(
        default_factory=dict,
        description='capital by financial year, e.g. {"2026-27" = 1000000}; a year\'s capital '
        "opens places the following September",
    )
    carry_forward: bool = Field(
        default=False,
        strict=True,  # true or false: "yes" is not a TOML boolean
        description="capital unspent in a year may be spent in a later one",
    )
    targets: tuple[Literal["out_of_area", "independent"], ...] = Field(
        default=("out_of_area", "independent"),
        min_length=1,
        description="placements a new base would replace",
    )
    nearest_sites: int | None = Field(
        default=None,
        ge=1,
        strict=True,
        description="offer each demand row only its this many nearest sites (county scale; "
        "default every site within reach, exact)",
    )
    steps: int = Field(default=10, ge=1, strict=True, description="budget-curve steps")
    alternatives: int = Field(
        default=5, ge=0, strict=True, description="next-best distinct site sets shown"
    )
    time_limit_s: float = Field(default=60.0, gt=0, strict=True, description="per solve")
    gap: float = Field(
        default=0.0,
        ge=0,
        lt=1,
        strict=True,
        allow_inf_nan=False,
        description="relative gap on savings per solve, a fraction (0.01 = 1 %)",
    )

    @field_validator("sizes")
    @classmethod
    def _distinct_sizes(cls, value: tuple[SizeOption, ...]) -> tuple[SizeOption, ...]:
        seen: set[int] = set()
        for size in value:
            if size.places in seen:
                msg = (
                    f"sizes lists {size.places} places twice; give each size once, with its "
                    "capital_gbp"
                )
                raise ValueError(msg)
            seen.add(size.places)
        return value

    @field_validator("budget_by_fy_gbp")
    @classmethod
    def _fy_labels(cls, value: dict[str, float]) -> dict[str, float]:
        import re

        bad = [k for k in value if not re.fullmatch(r"\d{4}-\d{2}", k)]
        if bad:
            msg = f'financial year {bad[0]!r} must look like "2026-27"'
            raise ValueError(msg)
        wrong = [k for k in value if int(k[5:]) != (int(k[:4]) + 1) % 100]
        if wrong:
            msg = f'financial year {wrong[0]!r} must span one year, e.g. "2026-27"'
            raise ValueError(msg)
        negative = [k for k, v in value.items() if not (v >= 0 and math.isfinite(v))]
        if negative:
            msg = (
                f"budget for {negative[0]!r} must be a finite amount of 0 or more (£), e.g. "
                f"{negative[0]!r} = 1000000; got {value[negative[0]]!r}"
            )
            raise ValueError(msg)
        return value

"""The one way placeplan solves linear and mixed-integer programs: HiGHS through ``highspy``.

Every LP/MILP in the package (site selection in ``optimise``, re-allocation in ``allocation``)
goes through :func:`solve`, which poses::

    min (or max)  c @ x + offset
    s.t.          row_lb <= A @ x <= row_ub
                  col_lb <=     x <= col_ub
                  x_k integer where integrality[k]

and returns a :class:`SolveResult` with a plain status string. The solver never raises for an
unsuccessful *solve*: callers look at ``status`` and raise the package's own error
(:class:`~placeplan.InfeasibleModelError`) with advice that fits their model. It raises only for
malformed input (wrong shapes, bad options), which are programming errors.

Statuses
--------
``"optimal"``
    Solved to the requested tolerance (``mip_rel_gap``; HiGHS's default ``1e-4`` when ``None``).
``"time_limit"``
    ``time_limit_s`` ran out. ``x`` is the best feasible solution found (the incumbent) with its
    ``objective``, ``bound`` and ``gap``, or ``None`` (all four) when none was found yet.
``"infeasible"``
    No ``x`` satisfies the rows, bounds and integrality.
``"unbounded"``
    The objective improves without limit.
``"error"``
    Anything else (HiGHS model, presolve or solve error, iteration limit, interrupt); ``message``
    holds HiGHS's own status text.

HiGHS prints a banner when a ``highspy.Highs`` is created. It is silenced with the option
``output_flag=False``, set before any call that can log; standard output is never redirected.
``random_seed`` is fixed at 0 (HiGHS's default) so that repeated runs give the same solution.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import scipy.sparse as sp

from placeplan._errors import ConfigError, SchemaValidationError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

__all__ = ["STATUSES", "SolveResult", "solve"]

#: Every value :attr:`SolveResult.status` can take.
STATUSES = ("optimal", "time_limit", "infeasible", "unbounded", "error")

Status = Literal["optimal", "time_limit", "infeasible", "unbounded", "error"]


@dataclass(frozen=True, slots=True)
class SolveResult:
    """The outcome of one :func:`solve` call.

    Attributes
    ----------
    status
        One of :data:`STATUSES`: ``"optimal"``, ``"time_limit"``, ``"infeasible"``,
        ``"unbounded"`` or ``"error"``.
    x
        Column values, shape ``(n_col,)``: the optimum, or the incumbent at a time limit. ``None``
        when there is no feasible solution to report.
    objective
        ``c @ x + offset`` as HiGHS reports it, or ``None`` without ``x``.
    bound
        Best proven bound on the objective (lower bound when minimising, upper when maximising):
        HiGHS's MIP dual bound, or the objective itself for an LP solved to optimality. ``None``
        without ``x``.
    gap
        Relative gap between ``objective`` and ``bound`` as HiGHS computes it,
        ``|objective - bound| / |objective|`` (``inf`` when the objective is 0 and the bound is
        not), never negative. ``0.0`` for an LP solved to optimality; at most ``mip_rel_gap``
        (within tolerance) for an optimal MILP; ``None`` without ``x``. (An LP stopped by the
        time limit at a feasible point has ``bound=None`` and ``gap=inf``.)
    time_s
        Wall-clock seconds spent in HiGHS (building the model and solving).
    message
        HiGHS's own model status text (e.g. ``"Time limit reached"``), for error messages.
    row_dual
        Row duals of an LP solved to optimality, shape ``(n_row,)``, HiGHS's sign convention
        (column reduced costs are ``c - A.T @ row_dual`` for either ``sense``); ``None``
        otherwise.
    """

    status: Status
    x: NDArray[np.float64] | None
    objective: float | None
    bound: float | None
    gap: float | None
    time_s: float
    message: str = ""
    row_dual: NDArray[np.float64] | None = None


@functools.cache
def _silent_highs_class() -> type[Any]:
    """``highspy.Highs`` that turns ``output_flag`` off before its constructor can log.

    highspy >= 1.8 builds its callbacks in ``Highs.__init__`` (``enableCallbacks``), which logs
    the banner when ``output_flag`` is still on; setting the option first keeps it quiet.
    ``highspy`` is imported here, not at module import, because it takes ~0.1 s to load.
    """
    import highspy

    class _SilentHighs(highspy.Highs):
        def enableCallbacks(self) -> Any:  # highspy's name
            self.setOptionValue("output_flag", False)
            return super().enableCallbacks()

    return _SilentHighs


def _new_highs() -> Any:
    """A silent ``highspy.Highs`` (``output_flag=False`` from the start)."""
    h = _silent_highs_class()()
    h.setOptionValue("output_flag", False)  # older highspy: the constructor does not log
    return h


def _vector(values: ArrayLike, n: int, name: str, fill: float) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        msg = f"`{name}` must have shape ({n},) to match the model; got {arr.shape}."
        raise SchemaValidationError(msg)
    if np.isnan(arr).any():
        msg = f"`{name}` has NaN entries; use ±inf for a missing bound."
        raise SchemaValidationError(msg)
    return np.where(arr == np.inf, fill, np.where(arr == -np.inf, -fill, arr))


def _all_zero_solution(
    row_lb: NDArray[np.float64], row_ub: NDArray[np.float64], offset: float, start: float
) -> SolveResult:
    """No columns: feasible iff every row admits activity 0; the objective is the offset."""
    if bool(np.all(row_lb <= 0.0)) and bool(np.all(row_ub >= 0.0)):
        return SolveResult(
            "optimal", np.zeros(0), offset, offset, 0.0, time.perf_counter() - start, "Optimal"
        )
    return SolveResult(
        "infeasible", None, None, None, None, time.perf_counter() - start, "Infeasible"
    )


def solve(
    c: ArrayLike,
    A: sp.sparray | sp.spmatrix,  # the constraint matrix, as in the maths
    row_lb: ArrayLike,
    row_ub: ArrayLike,
    col_lb: ArrayLike,
    col_ub: ArrayLike,
    integrality: ArrayLike | None = None,
    *,
    sense: Literal["min", "max"] = "min",
    offset: float = 0.0,
    time_limit_s: float | None = None,
    mip_rel_gap: float | None = None,
    lp_method: Literal["choose", "simplex", "ipm"] = "choose",
    start: ArrayLike | None = None,
) -> SolveResult:
    """Solve a linear or mixed-integer program with HiGHS.

    Parameters
    ----------
    c
        Objective coefficients, shape ``(n_col,)``.
    A
        Constraint matrix, shape ``(n_row, n_col)``, any scipy sparse format (converted to CSC).
    row_lb, row_ub
        Row activity bounds, shape ``(n_row,)`` or scalars; ``-inf``/``inf`` for none. An
        equality row has ``row_lb == row_ub``.
    col_lb, col_ub
        Column bounds, shape ``(n_col,)`` or scalars; ``-inf``/``inf`` for none.
    integrality
        Shape ``(n_col,)``: truthy where the column must take whole values (``1``/``True``), else
        continuous. ``None`` (default) or all false: an LP.
    sense
        ``"min"`` (default) or ``"max"``.
    offset
        Constant added to the objective (reported in ``objective`` and ``bound``).
    time_limit_s
        Wall-clock limit in seconds, >= 0. At the limit the incumbent is returned with status
        ``"time_limit"`` (see :class:`SolveResult`). Default no limit.
    mip_rel_gap
        Relative gap, >= 0, at which a MILP counts as optimal. ``None`` keeps HiGHS's default
        (``1e-4``); pass ``0.0`` for proven optimality.
    lp_method
        HiGHS ``solver`` option for LPs: ``"choose"`` (default), ``"simplex"`` (a basic, i.e.
        vertex, solution: integral on totally unimodular models) or ``"ipm"``.
    start
        Shape ``(n_col,)``: a feasible point for a MILP to start from (HiGHS's ``setSolution``;
        the incumbent from the outset, so a time limit never returns worse). HiGHS checks it and
        ignores one that is infeasible. Ignored for an LP.

    Returns
    -------
    result
        :class:`SolveResult`. Its ``status`` says whether ``x`` can be used.

    Raises
    ------
    SchemaValidationError
        Arrays whose shapes do not match ``A``, or NaN bounds or costs.
    ConfigError
        A negative or non-finite ``time_limit_s``, a negative ``mip_rel_gap``, or an unknown
        ``sense`` or ``lp_method``.

    Examples
    --------
    Choose two of three items worth 5, 4 and 3 with weights 4, 3 and 2 in a knapsack of 6:

    >>> import numpy as np, scipy.sparse as sp
    >>> res = solve([5.0, 4.0, 3.0], sp.csr_array([[4.0, 3.0, 2.0]]), -np.inf, 6.0, 0.0, 1.0,
    ...             [1, 1, 1], sense="max", mip_rel_gap=0.0)
    >>> res.status, np.flatnonzero(res.x > 0.5).tolist(), res.objective, res.gap
    ('optimal', [0, 2], 8.0, 0.0)
    """
    start = time.perf_counter()
    if sense not in ("min", "max"):
        msg = f"`sense` must be 'min' or 'max'; got {sense!r}."
        raise ConfigError(msg)
    if lp_method not in ("choose", "simplex", "ipm"):
        msg = f"`lp_method` must be 'choose', 'simplex' or 'ipm'; got {lp_method!r}."
        raise ConfigError(msg)
    if time_limit_s is not None and not (math.isfinite(time_limit_s) and time_limit_s >= 0):
        msg = f"`time_limit_s` must be finite seconds >= 0 or None; got {time_limit_s!r}."
        raise ConfigError(msg)
    if mip_rel_gap is not None and not (math.isfinite(mip_rel_gap) and mip_rel_gap >= 0):
        msg = f"`mip_rel_gap` must be a finite number >= 0 or None; got {mip_rel_gap!r}."
        raise ConfigError(msg)
    if not sp.issparse(A) or A.ndim != 2:
        msg = f"`A` must be a 2-D scipy sparse matrix or array; got {type(A).__name__}."
        raise SchemaValidationError(msg)
    n_row, n_col = A.shape
    import highspy

    inf = float(highspy.kHighsInf)
    cost = _vector(c, n_col, "c", inf)
    if np.isinf(cost).any():
        msg = "`c` must be finite; leave out columns that can never be used."
        raise SchemaValidationError(msg)
    rlo = _vector(row_lb, n_row, "row_lb", inf)
    rhi = _vector(row_ub, n_row, "row_ub", inf)
    clo = _vector(col_lb, n_col, "col_lb", inf)
    chi = _vector(col_ub, n_col, "col_ub", inf)
    if integrality is None:
        integer = np.zeros(n_col, dtype=bool)
    else:
        integer = np.asarray(integrality).astype(bool)
        if integer.shape != (n_col,):
            msg = f"`integrality` must have shape ({n_col},) to match `A`; got {integer.shape}."
            raise SchemaValidationError(msg)
    is_mip = bool(integer.any())
    if n_col == 0:
        return _all_zero_solution(rlo, rhi, float(offset), start)

    h = _new_highs()
    _set_options(h, mip_rel_gap, time_limit_s, lp_method)

    lp = highspy.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = n_row
    lp.col_cost_ = cost
    lp.col_lower_ = clo
    lp.col_upper_ = chi
    lp.row_lower_ = rlo
    lp.row_upper_ = rhi
    lp.offset_ = float(offset)
    if sense == "max":
        lp.sense_ = highspy.ObjSense.kMaximize
    csc = sp.csc_matrix(A)
    csc.sort_indices()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = n_col
    lp.a_matrix_.num_row_ = n_row
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data.astype(float)
    if is_mip:
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
            for flag in integer
        ]
    h.passModel(lp)
    if start is not None and is_mip:
        _set_start(h, highspy, np.clip(_vector(start, n_col, "start", inf), clo, chi))
    h.run()
    model_status = h.getModelStatus()
    if model_status == highspy.HighsModelStatus.kUnboundedOrInfeasible:
        if bool((np.abs(clo) < inf).all() and (np.abs(chi) < inf).all()):
            model_status = highspy.HighsModelStatus.kInfeasible  # bounded columns: not unbounded
        else:  # presolve could not tell; the solver without presolve can
            h.setOptionValue("presolve", "off")
            h.run()
            model_status = h.getModelStatus()
    return _result(h, highspy, model_status, is_mip=is_mip, start=start)


def _set_options(
    h: Any, mip_rel_gap: float | None, time_limit_s: float | None, lp_method: str
) -> None:
    """HiGHS options: fixed seed, gap, time limit, LP method."""
    h.setOptionValue("random_seed", 0)
    if mip_rel_gap is not None:
        h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    if time_limit_s is not None:
        h.setOptionValue("time_limit", float(time_limit_s))
    if lp_method != "choose":
        h.setOptionValue("solver", lp_method)


def _set_start(h: Any, highspy: Any, x0: NDArray[np.float64]) -> None:
    """Hand HiGHS a starting point (it checks feasibility and ignores a bad one)."""
    given = highspy.HighsSolution()
    given.col_value = x0
    given.value_valid = True
    h.setSolution(given)


def _result(h: Any, highspy: Any, model_status: Any, *, is_mip: bool, start: float) -> SolveResult:
    """Map the HiGHS model status and solution to a :class:`SolveResult`."""
    statuses = highspy.HighsModelStatus
    message = str(h.modelStatusToString(model_status))
    status: Status
    if model_status == statuses.kOptimal:
        status = "optimal"
    elif model_status == statuses.kTimeLimit:
        status = "time_limit"
    elif model_status == statuses.kInfeasible:
        status = "infeasible"
    elif model_status == statuses.kUnbounded:
        status = "unbounded"
    else:
        status = "error"
    info = h.getInfo()
    has_x = status in ("optimal", "time_limit") and (
        info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    )
    elapsed = time.perf_counter() - start
    if not has_x:
        return SolveResult(status, None, None, None, None, elapsed, message)
    x = np.asarray(h.getSolution().col_value, dtype=float)
    objective = float(info.objective_function_value)
    if is_mip:
        bound = float(info.mip_dual_bound)
        gap = float(info.mip_gap)
        gap = max(gap, 0.0) if math.isfinite(gap) else math.inf
    elif status == "optimal":
        duals = np.asarray(h.getSolution().row_dual, dtype=float)
        return SolveResult(status, x, objective, objective, 0.0, elapsed, message, duals)
    else:  # an LP stopped by the clock at a primal feasible point: no bound is known
        return SolveResult(status, x, objective, None, math.inf, elapsed, message)
    return SolveResult(status, x, objective, bound, gap, elapsed, message)

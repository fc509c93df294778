"""Plan a network: scenario and inputs in, an exact :class:`Plan` out.

``plan`` runs load → coverage → model → solve. Each step is timed; the solver record of
every lexicographic stage is kept. The plan never claims optimality it did not prove.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from netplan._display_hooks import show
from netplan._errors import InfeasiblePlanError, ScenarioError
from netplan.inputs.build import Inputs
from netplan.optimize.aggregation import cell_sizes
from netplan.optimize.infeasibility import explain_infeasible
from netplan.optimize.lexicographic import STAGE_ORDER, solve_lexicographic
from netplan.optimize.model import TieredModel
from netplan.optimize.problem import TieredProblem
from netplan.optimize.records import SolverOptions, SolverRecord
from netplan.preparation import Prepared, Progress, build_problem, prepare, tell
from netplan.scenario import Scenario
from netplan.travel.geometry import EARTH_RADIUS_M

ACTIONS = ("keep", "open", "retier", "close")


@dataclass
class Plan:
    """An optimised network plan and how it was obtained.

    Attributes
    ----------
    scenario : Scenario
    inputs : Inputs
    tiers : ndarray (m,)
        Tier index of each site in the plan (-1 = closed or not opened).
    status : str
        ``optimal`` only if every lexicographic stage was proven optimal, judged by netplan
        from the plan's own objective and the best bound (:func:`netplan.optimize.scaling.certify`);
        else ``feasible`` (the gap to the bound is above ``mip_rel_gap``), ``unproven`` (the
        solver's objective is not its solution's, or the plan beats the bound),
        ``time_limit``, ``infeasible``, ``no_solution`` or ``interrupted``.
    stopped_stage : str or None
        The stage that did not finish.
    stages : list of SolverRecord
        One record per stage solved.
    values : dict
        Optimum of each finished stage (coverage, cost, distance, site_id).
    timings : dict
        Seconds per step (load, coverage, model, solve and each stage).
    reduction : dict
        Model size before and after exact reductions.
    budget : dict
        The budget limits used (``baseline`` resolved to money).
    model_covered : ndarray (K,)
        Covered demand weight per level according to the model's variables.
    assignment : DataFrame or None
        Under capacities: ``level`` (key), ``demand_id``, ``site_id``, ``share``, ``load``,
        ``distance`` — who is served by which outlet on the loading levels.
    parents : DataFrame or None
        Under a span of control: ``site_id`` and its supporting ``parent_id``, ``distance``.
    levels : list of int
        Levels the optimisation modelled (positive weight or a target).
    row_scales : dict
        The power of two each budget and coverage-target row was divided by before the
        solver saw it, by scenario key (see :mod:`netplan.optimize.scaling`).
    """

    scenario: Scenario
    inputs: Inputs
    prepared: Prepared
    tiers: np.ndarray
    status: str
    stopped_stage: str | None
    stages: list[SolverRecord]
    values: dict[str, float]
    timings: dict[str, float]
    reduction: dict[str, int]
    budget: dict[str, float | None]
    model_covered: np.ndarray
    levels: list[int] = field(default_factory=list)
    assignment: pd.DataFrame | None = None
    parents: pd.DataFrame | None = None
    row_scales: dict[str, float] = field(default_factory=dict)

    # ------------------------------------------------------------ solver facts
    @property
    def primary(self) -> SolverRecord:
        """Record of the first (primary-objective) stage."""
        return self.stages[0]

    @property
    def objective(self) -> float:
        return self.primary.objective

    @property
    def bound(self) -> float:
        return self.primary.bound

    @property
    def gap(self) -> float:
        """Largest relative gap over the stages solved (0 when every stage is proven optimal)."""
        # a stage netplan could not certify (feasible, unproven) has a plan and a gap too
        gaps = [
            r.gap
            for r in self.stages
            if r.has_solution or (r.status in ("feasible", "unproven") and math.isfinite(r.gap))
        ]
        return max(gaps) if gaps else math.nan

    @property
    def is_optimal(self) -> bool:
        return self.status == "optimal"

    def solver_record(self) -> dict[str, object]:
        """Status, objective, bound, gap, time and solver of the plan, with every stage's record."""
        first = self.primary
        return {
            "status": self.status,
            "stopped_stage": self.stopped_stage,
            "objective_type": self.scenario.objective.type,
            "objective": _finite(first.objective),
            "bound": _finite(first.bound),
            "gap": _finite(self.gap),
            "seconds": sum(r.seconds for r in self.stages),
            "solver": first.solver,
            "version": first.version,
            "time_limit": self.scenario.solver.time_limit,
            "mip_rel_gap": self.scenario.solver.mip_rel_gap,
            "stage_order": list(STAGE_ORDER[self.scenario.objective.type]),
            "scale_factors": self.scale_factors(),
            "stages": [r.to_dict() for r in self.stages],
        }

    def scale_factors(self) -> dict[str, object]:
        """The powers of two the solver's program was divided by (objective, bound and gap
        above are in the user's units): per stage objective, and per budget / target row."""
        objective: dict[str, float] = {}
        for r in self.stages:
            if r.stage is not None and "objective_scale" in r.extra:
                objective.setdefault(r.stage, float(r.extra["objective_scale"]))
        return {"objective": objective, "rows": dict(self.row_scales)}

    # ------------------------------------------------------------- the plan
    @property
    def actions(self) -> np.ndarray:
        """Action of each site: keep, open, retier, close, or '' (candidate not opened)."""
        current = self.inputs.current_tier
        t = self.tiers
        out = np.full(len(t), "", dtype=object)
        existing = current >= 0
        out[existing & (t == current)] = "keep"
        out[existing & (t >= 0) & (t != current)] = "retier"
        out[existing & (t < 0)] = "close"
        out[~existing & (t >= 0)] = "open"
        return out

    @property
    def outlets(self) -> gpd.GeoDataFrame:
        """Every site with an action: the plan's open outlets and the closed existing ones.

        Columns: site_id, name, tier (plan tier key, '' if closed), tier_name, current_tier,
        action, policy, ownership, region, cost (this site's share of the plan cost), capex,
        opex_per_year, geometry (working CRS).
        """
        sites = self.inputs.sites
        keys = self.scenario.tier_keys
        labels = self.scenario.tier_labels
        costs = self.inputs.costs
        t = self.tiers
        action = self.actions
        on = t >= 0
        idx = np.arange(len(t))
        capex = np.where(on, costs.capex()[idx, np.maximum(t, 0)], costs.closing())
        opex = np.where(on, costs.operate[idx, np.maximum(t, 0)], 0.0)
        frame = sites[
            ["site_id", "name", "current_tier", "policy", "ownership", "region", "geometry"]
        ].copy()
        frame.insert(2, "tier", [keys[k] if k >= 0 else "" for k in t])
        frame.insert(3, "tier_name", [labels[k] if k >= 0 else "" for k in t])
        frame.insert(5, "action", action)
        frame["capex"] = capex
        frame["opex_per_year"] = opex
        frame["cost"] = capex + costs.horizon_years * opex
        if self.inputs.capacity is not None:
            cap = self.inputs.capacity[idx, np.maximum(t, 0)]
            load = np.zeros(len(t))
            if self.assignment is not None and len(self.assignment):
                pos = pd.Index(sites["site_id"]).get_indexer(self.assignment["site_id"])
                np.add.at(load, pos, self.assignment["load"].to_numpy())
            frame["capacity"] = np.where(on, cap, np.nan)
            frame["load"] = np.where(on, load, np.nan)
            frame["utilisation"] = np.where(on & np.isfinite(cap), load / cap, np.nan)
        if self.parents is not None:
            parent = pd.Series(
                self.parents["parent_id"].to_numpy(), index=self.parents["site_id"].to_numpy()
            )
            frame["parent_id"] = frame["site_id"].map(parent).fillna("").to_numpy()
        frame = frame.loc[action != ""].reset_index(drop=True)
        return gpd.GeoDataFrame(frame, geometry="geometry", crs=self.inputs.crs)

    def cost(self) -> dict[str, float]:
        """Cost breakdown: total, capex, opex, and by action (open, convert, close, operate)."""
        return self.inputs.costs.plan_cost(self.tiers)

    def counts(self) -> pd.DataFrame:
        """Outlets per tier by action."""
        out = self.outlets
        table = pd.crosstab(
            out["tier"].where(out["tier"] != "", out["current_tier"]), out["action"]
        )
        return table.reindex(index=self.scenario.tier_keys, columns=list(ACTIONS), fill_value=0)

    def _repr_html_(self) -> str:
        return show("plan.html", self)

    def explore(self):
        """The plan and today's network on an offline folium map (renders inline in Jupyter)."""
        return show("plan.explore", self)

    def __repr__(self) -> str:
        return (
            f"Plan(status={self.status!r}, objective={self.objective:.6g}, gap={self.gap:.3g}, "
            f"open={int((self.tiers >= 0).sum())}, cost={self.cost()['total']:.6g})"
        )


def _finite(value: float) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def plan(
    scenario: Scenario,
    inputs: Inputs | None = None,
    progress: Progress | None = None,
    prepared: Prepared | None = None,
) -> Plan:
    """Optimise the network of a scenario.

    Parameters
    ----------
    scenario : Scenario
    inputs : Inputs, optional
        Already loaded inputs (e.g. from :func:`netplan.inputs.build.inputs_from_frames`);
        loaded from the scenario's files when omitted.
    progress : callable, optional
        ``progress(step, state)`` with step in load, coverage, model, solve:<stage> and state
        ``start`` / ``done``.
    prepared : Prepared, optional
        Inputs with coverage already built (skips load and coverage).

    Returns
    -------
    Plan

    Raises
    ------
    InfeasiblePlanError
        No plan satisfies the rules; the message says which rules to look at.
    ScenarioError
        The scenario has ``phases``: roadmaps are planned by :func:`netplan.roadmap.plan_roadmap`.
    """
    if scenario.phases:  # a roadmap has its own model (netplan.roadmap)
        raise ScenarioError(
            f"{scenario.source or 'scenario'}: phases: a single plan does not take phases; "
            "plan the roadmap with netplan.roadmap.plan_roadmap (or netplan run), or remove 'phases'"
        )
    prep = prepared or prepare(scenario, inputs, progress)
    timings = dict(prep.timings)
    t0 = time.perf_counter()
    tell(progress, "model", "start")
    problem, budget = build_problem(prep, scenario)
    model = TieredModel(problem)
    timings["model"] = time.perf_counter() - t0
    tell(progress, "model", "done")
    spec = scenario.solver
    options = SolverOptions(
        backend=spec.backend,
        time_limit=spec.time_limit,
        mip_rel_gap=spec.mip_rel_gap,
        threads=spec.threads,
        seed=spec.seed,
    )
    t0 = time.perf_counter()
    current: list[str] = []

    def on_stage(stage: str) -> None:
        if current:
            tell(progress, f"solve:{current[-1]}", "done")
        current.append(stage)
        tell(progress, f"solve:{stage}", "start")

    result = solve_lexicographic(
        model,
        scenario.objective.type,
        options,
        tie_break=spec.tie_break,
        on_stage=on_stage,
        aggregate=_aggregation(model, prep, scenario),
    )
    if current:
        tell(progress, f"solve:{current[-1]}", "done")
    timings["solve"] = time.perf_counter() - t0
    for record in result.records:  # a stage may take several solves
        timings[f"solve:{record.stage}"] = (
            timings.get(f"solve:{record.stage}", 0.0) + record.seconds
        )
    if result.tiers is None:
        first = result.records[-1]
        message = None
        if first.status == "infeasible":
            message = explain_infeasible(model, scenario.tier_keys, prep.region_names, options)
        raise InfeasiblePlanError(message or _explain_no_plan(problem, first, result.stopped_stage))
    reduction = dict(model.reduction, **result.sizes)
    covered = model.covered_by_level(result.x)
    assignment = parents = None
    row_scales = {
        _row_label(key, scenario.tier_keys, prep.region_names): factor
        for key, factor in model.row_scale_factors().items()
    }
    if model.has_extensions:
        assignment, parents = assignment_tables(model, result.x, prep)
    return Plan(
        scenario=scenario,
        inputs=prep.inputs,
        prepared=prep,
        tiers=result.tiers,
        status=result.status,
        stopped_stage=result.stopped_stage,
        stages=result.records,
        values=result.values,
        timings=timings,
        reduction=reduction,
        budget=budget,
        model_covered=covered,
        levels=list(model.levels),
        assignment=assignment if problem.capacity is not None else None,
        parents=parents if problem.span is not None else None,
        row_scales=row_scales,
    )


# above this many demand rows (after exact merging) the max-coverage LP alone takes minutes;
# the LP-guided search (or grid aggregation, when asked for) replaces the plain MILP
AGGREGATION_MIN_ROWS = 100_000


def _aggregation(
    model: TieredModel, prep: Prepared, scenario: Scenario
) -> tuple[np.ndarray, np.ndarray] | str | None:
    """How the first stage of a very large max-coverage model is solved.

    Returns None (the plain MILP), ``"lp_guided"`` (:mod:`netplan.optimize.lpguided`) or, for
    ``aggregation: on``, the demand coordinates in metres and the grid cell per level of
    :mod:`netplan.optimize.aggregation`.
    """
    p = model.problem
    mode = scenario.solver.aggregation
    if mode == "off":
        return None
    reasons = []
    if p.objective != "max_coverage":
        reasons.append("objective max_coverage")
    if model.has_extensions or p.region_targets:
        reasons.append("no capacities, span of control or region targets")
    if p.active_overlap_caps():
        # grid aggregation relaxes groups (a group's overlap needs its own reach, not the
        # union of its members'); the LP-guided restriction (restriction.py) takes the
        # program as integer x then continuous y columns and merges rows by free sites,
        # neither of which holds with the cap's o columns and rows: the plain MILP is exact
        reasons.append("no siting.overlap cap")
    if mode == "on" and prep.inputs.travel is not None:
        reasons.append("planar or haversine travel (reach in metres)")
    if reasons:
        if mode in ("on", "lp_guided"):
            raise ScenarioError(
                f"solver.aggregation: {mode} needs {', '.join(reasons)}; set it to auto or off"
            )
        return None
    if mode == "auto" and model.ny <= AGGREGATION_MIN_ROWS:
        return None
    if mode in ("auto", "lp_guided"):
        return "lp_guided"
    xy = prep.inputs.demand_xy
    if prep.inputs.mode == "haversine":  # local metres: the grid only needs to be roughly square
        lat0 = np.radians(np.nanmean(xy[:, 1]))
        xy = np.column_stack([np.radians(xy[:, 0]) * np.cos(lat0), np.radians(xy[:, 1])])
        xy = xy * EARTH_RADIUS_M
    return xy, cell_sizes(scenario.reach_matrix)


def _row_label(key: tuple, tier_keys: list[str], region_names: list[str]) -> str:
    """Scenario key of a budget or target row of :meth:`TieredModel.row_scale_factors`."""
    if key[0] == "budget":
        return key[1]
    _, region, level = key
    if region is None:
        return f"objective.targets.{tier_keys[level]}"
    return f"objective.region_targets.{region_names[region]}.{tier_keys[level]}"


def assignment_tables(
    model: TieredModel, x: np.ndarray, prep: Prepared
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The model's assignments with ids instead of indices."""
    demand, parents = model.assignments(x)
    site_ids = prep.inputs.sites["site_id"].to_numpy()
    demand_ids = prep.inputs.demand["demand_id"].to_numpy()
    keys = np.asarray(prep.scenario.tier_keys)
    demand = pd.DataFrame(
        {
            "level": keys[demand["level"].to_numpy()],
            "demand_id": demand_ids[demand["demand"].to_numpy()],
            "site_id": site_ids[demand["site"].to_numpy()],
            "share": demand["share"].to_numpy(),
            "load": demand["load"].to_numpy(),
            "distance": demand["distance"].to_numpy(),
        }
    )
    parents = pd.DataFrame(
        {
            "site_id": site_ids[parents["site"].to_numpy()],
            "parent_id": site_ids[parents["parent"].to_numpy()],
            "distance": parents["distance"].to_numpy(),
        }
    )
    return demand, parents


def _explain_no_plan(problem: TieredProblem, record: SolverRecord, stage: str | None) -> str:
    """A one-line reason why no plan came back.

    The budget and unsupportable keep outlets were already checked by
    :func:`netplan.optimize.prechecks.check_prepared`; here: time limits, interrupts and count rules that
    too few sites can meet.
    """
    if record.status in ("time_limit", "no_solution"):
        return (
            f"no feasible plan found within the time limit ({record.time_limit} s) in stage '{stage}'; "
            "raise solver.time_limit or relax the rules"
        )
    if record.status == "interrupted":
        return f"interrupted in stage '{stage}' before a plan was found"
    reasons = []
    for rule in problem.counts:
        if rule.lo > 0:
            able = problem.allowed if rule.tier is None else problem.allowed[:, [rule.tier]]
            sites = able.any(axis=1)
            if rule.region is not None:
                sites &= problem.site_region == rule.region
            if sites.sum() < rule.lo:
                reasons.append(
                    f"{rule.label} needs at least {rule.lo:.0f} but only {int(sites.sum())} sites can host them"
                )
    if not reasons:
        reasons.append(
            "the rules contradict each other (budget, counts, linkage, policies or coverage targets); "
            "relax one, e.g. raise the budget or lower a target"
        )
    return "no feasible plan: " + "; also ".join(reasons)

"""A roadmap: the exact order of actions over a scenario's phases, with its baselines.

:func:`plan_roadmap` prepares the scenario once, builds the
:class:`~netplan.optimize.roadmap_model.RoadmapProblem` of its phases
(:mod:`netplan.phasing`), solves it exactly (``coverage_years`` or ``final_first``), and
also computes the other exact variant and the greedy order, so that every roadmap states
how much it gains over both. :class:`RoadmapPlan` gives its tables: one row per action
(``actions``) and one per phase (``phase_table``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd

from netplan.optimize.model import TieredModel
from netplan.optimize.records import SolverOptions
from netplan.optimize.roadmap_capacity import (
    best_assignment,
    coverage_years_assigned,
    covered_weights,
    phase_part,
)
from netplan.optimize.roadmap_greedy import GreedyResult, greedy_roadmap
from netplan.optimize.roadmap_model import RoadmapModel, RoadmapProblem, without_budget
from netplan.optimize.roadmap_solve import (
    RoadmapResult,
    coverage_years,
    phase_money,
    solve_final_first,
    solve_roadmap,
)
from netplan.phasing import roadmap_problem
from netplan.planner import assignment_tables
from netplan.preparation import Prepared, prepare
from netplan.scenario import Scenario


@dataclass
class RoadmapPlan:
    """The roadmap of a scenario with phases.

    Attributes
    ----------
    scenario : Scenario
    prepared : Prepared
    problem : RoadmapProblem
    result : RoadmapResult
        The roadmap asked for (``roadmap.objective``).
    other : RoadmapResult or None
        The other exact variant (``final_first`` for a ``coverage_years`` run and back).
    greedy : GreedyResult
    """

    scenario: Scenario
    prepared: Prepared
    problem: RoadmapProblem
    result: RoadmapResult
    other: RoadmapResult | None
    greedy: GreedyResult
    extra: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        return self.result.status

    @property
    def tiers(self) -> np.ndarray:
        """(P, m) tier of each site in each phase (-1 = none)."""
        return self.result.tiers

    @property
    def objective(self) -> str:
        return self.scenario.roadmap.objective if self.scenario.roadmap else "coverage_years"

    def coverage_years(self) -> dict[str, float | None]:
        """Coverage-years of the exact roadmap, ``final_first`` and greedy, and the gains.

        Under capacities a roadmap's coverage is that of its assignments (covered = assigned);
        the greedy one's is recomputed with the best assignment of each phase's network.
        """
        mine = None if self.tiers is None else self.coverage_years_of(self.result)
        other = None
        if self.other is not None and self.other.tiers is not None:
            other = self.coverage_years_of(self.other)  # also a time-limited one (its status says)
        exact, ff = (mine, other) if self.objective == "coverage_years" else (other, mine)
        greedy = self.greedy.coverage_years
        return {
            "exact": exact,
            "final_first": ff,
            "greedy": greedy,
            "gain_over_final_first": None if exact is None or ff is None else exact - ff,
            "gain_over_greedy": None if exact is None else exact - greedy,
        }

    @property
    def final_first_status(self) -> str | None:
        """Status of the ``final_first`` roadmap (its figure in :meth:`coverage_years` may come
        from a solve stopped at the time limit)."""
        ff = self.other if self.objective == "coverage_years" else self.result
        return None if ff is None else ff.status

    @property
    def capacitated(self) -> bool:
        """Capacities in the phases: coverage is that of the assignments."""
        return self.problem.phases[0].capacity is not None

    @cached_property
    def model(self) -> RoadmapModel:
        """The roadmap program (rebuilt: its column layout is that of the solved one)."""
        return RoadmapModel(self.problem)

    def coverage_years_of(self, result: RoadmapResult) -> float:
        """Coverage-years of a solved roadmap: from its tiers, or under capacities from its
        assignments (those of its last finished stage, as the pages and files show them)."""
        if not self.capacitated:
            return coverage_years(self.problem, result.tiers)
        covered, _ = covered_weights(self.model, result.tiers, result.x)
        return coverage_years_assigned(self.model, covered)

    def phase_assignment(self, phase: int) -> pd.DataFrame | None:
        """Under capacities: the assignments of ``phase`` (level, demand_id, site_id, share,
        load, distance), as a single plan's; None without capacities."""
        if not self.capacitated or self.result.x is None:
            return None
        mdl = self.model.models[phase]
        demand, _ = assignment_tables(
            mdl, phase_part(self.model, self.result.x, phase), self.prepared
        )
        return demand

    @property
    def phase_names(self) -> list[str]:
        return [lim.name for lim in self.problem.limits]

    def phase_outlets(self, phase: int | None) -> gpd.GeoDataFrame:
        """The network of ``phase`` (None: today's) in the schema of a plan's outlets: every
        site open in it, and today's outlets closed by then (empty tier).

        Columns: site_id, name, tier, tier_name, current_tier, action (against the network
        before the phase: keep, open, close, upgrade, downgrade), policy, ownership, region,
        capex (paid in the phase), opex_per_year, geometry.
        """
        inputs = self.prepared.inputs
        costs = inputs.costs
        keys, labels = self.scenario.tier_keys, self.scenario.tier_labels
        today = costs.current_tier
        t = today if phase is None else self.tiers[phase]
        before = today if phase is None or phase == 0 else self.tiers[phase - 1]
        idx = np.arange(len(t))
        on, was = t >= 0, before >= 0
        action = np.where(
            on & was & (t == before), "keep",
            np.where(on & ~was, "open", np.where(~on & was, "close",
                     np.where(on & was & (t < before), "upgrade", np.where(on & was, "downgrade", "")))),
        )  # fmt: skip
        if phase is None:
            action = np.where(on, "keep", "")
        shown = on | (today >= 0)
        capex = np.select(
            [action == "open", action == "close", np.isin(action, ["upgrade", "downgrade"])],
            [costs.open[idx, np.maximum(t, 0)], costs.close, costs.convert[idx, np.maximum(t, 0)]],
            0.0,
        )
        frame = inputs.sites[
            ["site_id", "name", "current_tier", "policy", "ownership", "region", "geometry"]
        ].copy()
        frame.insert(2, "tier", [keys[k] if k >= 0 else "" for k in t])
        frame.insert(3, "tier_name", [labels[k] if k >= 0 else "" for k in t])
        frame.insert(5, "action", action)
        frame["capex"] = capex
        frame["opex_per_year"] = np.where(on, costs.operate[idx, np.maximum(t, 0)], 0.0)
        if inputs.capacity is not None and phase is not None:
            cap = inputs.capacity[idx, np.maximum(t, 0)]
            load = np.zeros(len(t))
            assignment = self.phase_assignment(phase)
            if assignment is not None and len(assignment):
                pos = pd.Index(inputs.sites["site_id"]).get_indexer(assignment["site_id"])
                np.add.at(load, pos, assignment["load"].to_numpy())
            frame["capacity"] = np.where(on, cap, np.nan)
            frame["load"] = np.where(on, load, np.nan)
            frame["utilisation"] = np.where(on & np.isfinite(cap), load / cap, np.nan)
        frame = frame.loc[shown].reset_index(drop=True)
        return gpd.GeoDataFrame(frame, geometry="geometry", crs=inputs.crs)

    def outlets(self) -> gpd.GeoDataFrame:
        """Every site open today or in some phase: today's tier, its tier in each phase
        (``tier_<phase>``), and the phase it opened, changed tier and closed in (names, ''
        for none)."""
        inputs = self.prepared.inputs
        keys = self.scenario.tier_keys
        today = inputs.costs.current_tier
        seq = np.vstack([today, self.tiers])  # (P + 1, m)
        names = np.array([""] + self.phase_names, dtype=object)
        shown = (seq >= 0).any(axis=0)
        on = seq >= 0
        opened = on[1:] & ~on[:-1] & (today < 0)[None, :]
        changed = on[1:] & on[:-1] & (seq[1:] != seq[:-1])
        closed = ~on[1:] & on[:-1]

        def first(mask: np.ndarray) -> np.ndarray:
            return np.where(mask.any(axis=0), names[1:][mask.argmax(axis=0)], "")

        frame = inputs.sites[
            ["site_id", "name", "policy", "ownership", "region", "geometry"]
        ].copy()
        frame.insert(2, "tier_today", [keys[k] if k >= 0 else "" for k in today])
        for p, name in enumerate(self.phase_names):
            frame.insert(3 + p, f"tier_{name}", [keys[k] if k >= 0 else "" for k in self.tiers[p]])
        frame["phase_opened"] = first(opened)
        frame["phase_changed"] = first(changed)
        frame["phase_closed"] = first(closed)
        frame = frame.loc[shown].reset_index(drop=True)
        return gpd.GeoDataFrame(frame, geometry="geometry", crs=inputs.crs)

    def actions(self) -> pd.DataFrame:
        """One row per action: phase, site_id, name, tier_before, tier_after, action, capex."""
        sites = self.prepared.inputs.sites
        keys = self.scenario.tier_keys
        costs = self.problem.phases[0].costs
        before = costs.current_tier.copy()
        rows = []
        for lim, t in zip(self.problem.limits, self.tiers, strict=True):
            for j in np.flatnonzero(t != before):
                a, b = int(before[j]), int(t[j])
                if a < 0:
                    action, capex = "open", costs.open[j, b]
                elif b < 0:
                    action, capex = "close", costs.close[j]
                else:
                    action = "upgrade" if b < a else "downgrade"
                    capex = costs.convert[j, b]
                rows.append({
                    "phase": lim.name, "site_id": sites["site_id"].iloc[j],
                    "name": sites["name"].iloc[j] if "name" in sites else "",
                    "tier_before": keys[a] if a >= 0 else "", "tier_after": keys[b] if b >= 0 else "",
                    "action": action, "capex": float(capex),
                })  # fmt: skip
            before = t
        columns = ["phase", "site_id", "name", "tier_before", "tier_after", "action", "capex"]
        return pd.DataFrame(rows, columns=columns)

    def phase_table(self, tiers: np.ndarray | None = None) -> pd.DataFrame:
        """Per phase: years, capex spent and its budget, yearly opex and its limit, total, and
        the covered share of that phase's demand per level (%), today's network first.

        ``tiers`` (P, m): another roadmap of the same phases (e.g. ``self.greedy.tiers``);
        default the exact one."""
        keys = self.scenario.tier_keys
        own = tiers is None
        tiers = self.tiers if own else np.asarray(tiers)
        money = phase_money(self.problem, tiers)
        assigned = None
        if self.capacitated:  # loading levels: covered = assigned (today's: by reach, as a plan's)
            x = self.result.x if own else None
            assigned, _ = covered_weights(self.model, tiers, x)
        rows = [self._today_row()]
        for p, (lim, t) in enumerate(zip(self.problem.limits, tiers, strict=True)):
            row = self._row(lim.name, lim.years, t, self.problem.phases[p], money[p], lim)
            if assigned is not None:
                phase = self.problem.phases[p]
                for level in np.flatnonzero(phase.loading_levels):
                    total = float(phase.weights[:, level].sum())
                    key = self.scenario.tier_keys[level]
                    row[f"covered_pct_{key}"] = 100.0 * assigned[p, level] / max(total, 1e-12)
            rows.append(row)
        frame = pd.DataFrame(rows)
        return frame[["phase", "years", "capex", "capex_budget", "opex_per_year", "opex_budget", "total"]
                     + [f"covered_pct_{k}" for k in keys]]  # fmt: skip

    @cached_property
    def _today_solution(self) -> tuple[TieredModel, np.ndarray] | None:
        """Under capacities: today's network with its best assignment of today's demand (None
        without capacities, or when no assignment keeps the capacity rules)."""
        if not self.capacitated:
            return None
        phase = dataclasses.replace(self.problem.phases[0], weights=self.prepared.inputs.weights)
        mdl = TieredModel(without_budget(phase))
        x = best_assignment(mdl, phase.costs.current_tier)
        return None if x is None else (mdl, x)

    def today_assignment(self) -> pd.DataFrame | None:
        """Under capacities: the best assignment of today's network (as :meth:`phase_assignment`)."""
        if self._today_solution is None:
            return None
        mdl, x = self._today_solution
        return assignment_tables(mdl, x, self.prepared)[0]

    def _today_row(self) -> dict:
        """Today's network against today's demand; under capacities with its best assignment
        (by reach alone when no assignment keeps the capacity rules)."""
        phase = dataclasses.replace(self.problem.phases[0], weights=self.prepared.inputs.weights)
        row = self._row("today", 0.0, phase.costs.current_tier, phase, None, None)
        if self._today_solution is not None:
            mdl, x = self._today_solution
            covered = mdl.covered_by_level(x)
            for level in np.flatnonzero(phase.loading_levels):
                total = float(phase.weights[:, level].sum())
                key = self.scenario.tier_keys[level]
                row[f"covered_pct_{key}"] = 100.0 * covered[level] / max(total, 1e-12)
        return row

    def _row(self, name, years, tiers, phase, money, lim) -> dict:
        costs = phase.costs
        on = np.flatnonzero(tiers >= 0)
        row = {
            "phase": name,
            "years": years,
            "capex": None if money is None else money["capex"],
            "capex_budget": None if lim is None else lim.capex,
            "opex_per_year": float(costs.operate[on, tiers[on]].sum()),
            "opex_budget": None if lim is None else lim.opex,
            "total": None if money is None else money["total"],
        }
        for level, key in enumerate(self.scenario.tier_keys):
            pairs, mask = phase.coverage.level_pairs(level)
            k = tiers[pairs.site]
            serving = (k >= 0) & mask[np.arange(len(k)), np.maximum(k, 0)]
            covered = np.zeros(phase.n_demand, dtype=bool)
            covered[pairs.demand[serving]] = True
            total = float(phase.weights[:, level].sum())
            row[f"covered_pct_{key}"] = (
                100.0 * float(phase.weights[covered, level].sum()) / max(total, 1e-12)
            )
        return row


def plan_roadmap(
    scenario: Scenario,
    prepared: Prepared | None = None,
    options: SolverOptions | None = None,
    progress=None,
) -> RoadmapPlan:
    """Plan the roadmap of a scenario with ``phases``.

    Parameters
    ----------
    scenario : Scenario
    prepared : Prepared, optional
        Inputs with coverage already built.
    options : SolverOptions, optional
        Default: the scenario's solver section; the time limit covers the asked-for roadmap
        (the other exact variant gets the same limit).
    progress : callable, optional
        ``progress(step, state)`` as for a single plan: load, coverage, each ``solve:<stage>``,
        ``solve:other`` (the other exact variant) and ``greedy``.

    Returns
    -------
    RoadmapPlan
    """
    prep = prepared or prepare(scenario, progress=progress)
    problem = roadmap_problem(prep, scenario)
    spec = scenario.solver
    options = options or SolverOptions(
        backend=spec.backend, time_limit=spec.time_limit, mip_rel_gap=spec.mip_rel_gap,
        threads=spec.threads, seed=spec.seed,
    )  # fmt: skip
    objective = scenario.roadmap.objective if scenario.roadmap else "coverage_years"
    other_name = "final_first" if objective == "coverage_years" else "coverage_years"
    tell = progress or (lambda step, state: None)
    tell("greedy", "start")
    greedy = greedy_roadmap(problem)  # first: the exact roadmap starts from it when it is feasible
    tell("greedy", "done")
    start = None if greedy.problems else greedy.tiers
    if objective == "coverage_years":
        result = solve_roadmap(problem, options, spec.tie_break, progress, start_tiers=start)
    else:
        result = solve_final_first(problem, options, tie_break=spec.tie_break, progress=progress)
    tell(f"solve:{other_name}", "start")
    if other_name == "coverage_years":
        other = solve_roadmap(problem, options, tie_break=False, start_tiers=start)
    else:
        other = solve_final_first(problem, options, tie_break=False)
    tell(f"solve:{other_name}", "done")
    plan = RoadmapPlan(scenario, prep, problem, result, other, greedy)
    if plan.capacitated:  # greedy chose by reach; its coverage is that of its best assignments
        covered, failed = covered_weights(plan.model, greedy.tiers)
        greedy.coverage_years = coverage_years_assigned(plan.model, covered)
        greedy.problems += [
            f"{problem.limits[p].name}: no assignment of the greedy network keeps the capacity rules"
            for p in failed
        ]
    return plan

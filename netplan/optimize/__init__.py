"""The exact optimisation core: MILPs built from arrays, solved and certified.

- Programs and their solves: :mod:`~netplan.optimize.program` holds a MILP as arrays,
  :mod:`~netplan.optimize.records` what a solve is asked and answers (options, record, gap),
  :mod:`~netplan.optimize.highs` and :mod:`~netplan.optimize.cbc` are the two backends, and
  :mod:`~netplan.optimize.solver` runs one and certifies what it says;
  :mod:`~netplan.optimize.scaling` makes each solve independent of units;
- the tiered covering model of DESIGN.md: :mod:`~netplan.optimize.problem` holds its data,
  :mod:`~netplan.optimize.model` lays out its columns, objectives and solutions, and
  :mod:`~netplan.optimize.constraints` builds its rows, one function per rule;
  :mod:`~netplan.optimize.cuts`, :mod:`~netplan.optimize.reduction` and
  :mod:`~netplan.optimize.fixing` tighten and shrink it without changing its optimum;
- :mod:`~netplan.optimize.lexicographic` solves stage by stage (coverage, cost, distance),
  fixing each finished stage (:mod:`~netplan.optimize.stage_fixing`) and breaking ties
  (:mod:`~netplan.optimize.tie_stages`, with :mod:`~netplan.optimize.assignment` for the
  distance stage);
- very large demand: :mod:`~netplan.optimize.aggregation` (grid aggregation) and
  :mod:`~netplan.optimize.lpguided` (LP-guided search over the first-order LP of
  :mod:`~netplan.optimize.first_order` and the restricted MIPs of
  :mod:`~netplan.optimize.restriction`);
- :mod:`~netplan.optimize.prechecks` rejects what can never be planned before solving, and
  :mod:`~netplan.optimize.infeasibility` explains what could not be.
"""

"""The exact optimisation core: MILPs built from arrays, solved and certified.

- :mod:`~netplan.optimize.solver` holds programs as arrays and the HiGHS / CBC backends;
  :mod:`~netplan.optimize.scaling` makes each solve independent of units;
- :mod:`~netplan.optimize.model` assembles the tiered covering model of DESIGN.md;
  :mod:`~netplan.optimize.cuts`, :mod:`~netplan.optimize.reduction` and
  :mod:`~netplan.optimize.fixing` tighten and shrink it without changing its optimum;
- :mod:`~netplan.optimize.lexicographic` solves stage by stage (coverage, cost, distance),
  with :mod:`~netplan.optimize.aggregation` and :mod:`~netplan.optimize.lpguided` for very
  large demand and :mod:`~netplan.optimize.assignment` for the distance stage;
- :mod:`~netplan.optimize.prechecks` rejects what can never be planned before solving, and
  :mod:`~netplan.optimize.infeasibility` explains what could not be.
"""

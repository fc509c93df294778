"""The English wording of the validator's checks, one template per rule and outcome.

The validator (:mod:`netplan.evaluation.validator`) fills these templates with a check's
figures to write its English ``rule`` and ``detail`` (run.json, :class:`PlanValidationError`).
The presentation layer's English catalogue (:mod:`netplan.present.messages.en`) includes this
table as it is, and the zh-CN catalogue translates the same keys: one wording per locale, kept
here beside the rules it describes because the evaluation layer must not import the
presentation layer.

Keys are ``check.<kind>.rule``, ``check.<kind>.ok`` and ``check.<kind>.fail``; placeholders are
the keys of :attr:`Check.values` (``str.format`` syntax, format specs allowed). Ids and tier
keys are data: they reach the templates as values, never translated.
"""

from __future__ import annotations

CHECK_MESSAGES: dict[str, str] = {
    "check.tier_allowed.rule": "tier allowed at site",
    "check.tier_allowed.ok": "every open site hosts an allowed tier",
    "check.tier_allowed.fail": "sites {sites}",
    "check.policies.rule": "policies",
    "check.policies.ok": "keep / may_close / may_retier respected",
    "check.policies.fail": "sites {sites}",
    "check.budget.rule": "budget.{key}",
    "check.budget.ok": "{value:,.2f} <= {limit:,.2f}",
    "check.budget.fail": "{value:,.2f} exceeds {limit:,.2f}",
    "check.count.rule": "count {tier}",
    "check.count.ok": "{n} within [{min}, {max}]",
    "check.count.fail": "{n} outside [{min}, {max}]",
    "check.count_region.rule": "count {tier} in {region}",
    "check.count_region.ok": "{n} within [{min}, {max}]",
    "check.count_region.fail": "{n} outside [{min}, {max}]",
    "check.linkage.rule": "linkage",
    "check.linkage.ok": "every supported tier has a higher-tier outlet in reach",
    "check.linkage.fail": "unsupported: {sites}",
    "check.assignment_reach.rule": "capacity assignments within reach",
    "check.assignment_reach.ok": "{n} assignments, farthest {farthest:,.1f} {unit}",
    "check.assignment_reach.fail": (
        "{n} assignments to a closed, lower-tier or out-of-reach outlet, e.g. {demand_id} -> {site_id}"
    ),
    "check.capacity.rule": "capacity",
    "check.capacity.ok": "largest utilisation {utilisation:.3f}",
    "check.capacity.fail": "over capacity: {sites}",
    "check.min_utilisation.rule": "minimum utilisation",
    "check.min_utilisation.ok": "every capacitated outlet carries >= {minimum:.0%} of its capacity",
    "check.min_utilisation.fail": "under-used: {sites}",
    "check.single_source.rule": "single source",
    "check.single_source.ok": "{n} demand points assigned",
    "check.single_source.fail": "{n} demand points split or over-assigned",
    "check.assigned_once.rule": "assigned at most once",
    "check.assigned_once.ok": "{n} demand points assigned",
    "check.assigned_once.fail": "{n} demand points split or over-assigned",
    "check.span.rule": "span of control",
    "check.span.ok": "most children of one parent: {n}",
    "check.span.fail": "over span: {over}",
    "check.span_parents.rule": "span of control",
    "check.span_parents.ok": "most children of one parent: {n}",
    "check.span_parents.fail": "an outlet has two parents",
    "check.coverage.rule": "coverage {level}",
    "check.coverage.ok": "recomputed {covered:,.3f} vs model {claim:,.3f}",
    "check.coverage.fail": "recomputed {covered:,.3f} vs model {claim:,.3f}",
    "check.target.rule": "target {level}",
    "check.target.ok": "covered {covered:,.1f} of {need:,.1f} needed",
    "check.target.fail": "covered {covered:,.1f} of {need:,.1f} needed",
    "check.overlap.rule": "siting.overlap.{level}",
    "check.overlap.ok": (
        "{share:.2f} % of covered demand ({over:,.1f} of {base:,.1f}) within reach of 2+ counted "
        "outlets, within the cap {cap:g} %"
    ),
    "check.overlap.fail": (
        "{share:.2f} % of covered demand ({over:,.1f} of {base:,.1f}) within reach of 2+ counted "
        "outlets, above the cap {cap:g} %"
    ),
    "check.spacing.rule": "spacing {tiers} >= {min}",
    "check.spacing.ok": "no two open outlets of these tiers closer",
    "check.spacing.fail": "{n} pairs closer, e.g. {pairs}",
    "check.exclusion.rule": "exclusion {label} ({source})",
    "check.exclusion.ok": "no new outlet inside",
    "check.exclusion.fail": "new outlets inside: {sites}",
}


def check_text(kind: str, ok: bool, values: dict[str, object]) -> tuple[str, str]:
    """The English rule and detail of a check of ``kind`` with its figures.

    Parameters
    ----------
    kind : str
        The rule's kind, e.g. ``"budget"`` (a key of :data:`CHECK_MESSAGES` without its prefix).
    ok : bool
        Whether the rule holds (chooses the ``ok`` or ``fail`` detail).
    values : dict
        The figures the templates name.

    Returns
    -------
    tuple of str
        ``(rule, detail)``.
    """
    rule = CHECK_MESSAGES[f"check.{kind}.rule"].format(**values)
    detail = CHECK_MESSAGES[f"check.{kind}.{'ok' if ok else 'fail'}"].format(**values)
    return rule, detail

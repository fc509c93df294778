"""Planning rules of a scenario: costs, budget, counts, objective, solver and capacities."""

from __future__ import annotations

import math
import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from netplan.scenario.base import StrictModel
from netplan.scenario.text import MAX_HORIZON_YEARS


class TierCost(StrictModel):
    """Costs of operating one tier at one site (money units of the scenario)."""

    open: float = Field(
        default=0.0, ge=0, description="one-off cost of opening a new outlet of this tier"
    )
    operate: float = Field(default=0.0, ge=0, description="yearly operating cost")
    convert: float = Field(
        default=0.0, ge=0, description="one-off cost of re-tiering an outlet into this tier"
    )
    close: float = Field(
        default=0.0, ge=0, description="one-off cost of closing an outlet of this tier"
    )


# ISO 4217 codes of currencies in circulation (2024); funds and metals (XAU, XDR) are no money to plan with
ISO_4217 = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP
    MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
    RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
    TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW
    ZWL""".split()
)


class CostSpec(StrictModel):
    currency: str | None = Field(
        default=None,
        description="ISO 4217 code of the costs' money (EUR, CNY, USD); printed with every cost. "
        "Without it costs print as plain numbers",
    )
    horizon_years: float = Field(
        default=1.0,
        gt=0,
        le=MAX_HORIZON_YEARS,
        description=f"years of operating cost counted in the plan's cost (at most {MAX_HORIZON_YEARS})",
    )
    direct: dict[str, TierCost] = Field(default_factory=dict)
    partner: dict[str, TierCost] = Field(default_factory=dict)

    @field_validator("currency", mode="before")
    @classmethod
    def _iso_currency(cls, v: Any) -> Any:
        if v is None:
            return v
        if not isinstance(v, str) or not re.fullmatch(r"[A-Z]{3}", v):
            hint = f"; did you mean {v.upper()!r}?" if isinstance(v, str) and v.upper() in ISO_4217 else ""
            raise ValueError(
                f"{v!r} is not an ISO 4217 code: give three upper-case letters such as EUR, USD "
                f"or CNY{hint}"
            )
        if v not in ISO_4217:
            raise ValueError(
                f"{v!r} is no ISO 4217 currency code; give one such as EUR, USD or CNY, or leave "
                "costs.currency out to print plain numbers"
            )
        return v


class BudgetSpec(StrictModel):
    total: float | str | None = Field(
        default=None,
        description="limit on one-off + operating x horizon cost; a number, 'baseline' or '1.1 x baseline'",
    )
    capex: float | None = Field(
        default=None, ge=0, description="limit on one-off cost (open + convert + close)"
    )
    opex: float | None = Field(default=None, ge=0, description="limit on the yearly operating cost")

    @field_validator("total", mode="before")
    @classmethod
    def _total_is_finite(cls, v: Any) -> Any:
        # checked before the float | str union so that NaN gets one clear message, not two
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(
                f"NaN and infinity are not allowed, got {v!r}; give a number, 'baseline' or "
                "'1.1 x baseline', or leave budget.total out for no limit"
            )
        return v


class CountRule(StrictModel):
    """Minimum / maximum number of open outlets of a tier (or ``any``), optionally in one region."""

    tier: str | int = "any"
    region: str | None = None
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _has_bound(self) -> CountRule:
        if self.min is None and self.max is None:
            raise ValueError("a count rule needs 'min' or 'max'")
        return self


class ObjectiveSpec(StrictModel):
    type: Literal["max_coverage", "min_cost"] = "max_coverage"
    level_weights: dict[str, float] | None = None
    targets: dict[str, float] | None = Field(
        default=None, description="min_cost: share of coverable demand per level"
    )
    region_targets: dict[str, dict[str, float]] | None = None


class SolverSpec(StrictModel):
    backend: Literal["highs", "cbc"] = "highs"
    time_limit: float | None = Field(
        default=None, gt=0, description="seconds for all stages together (finite, > 0)"
    )
    mip_rel_gap: float = Field(
        default=0.0, ge=0, lt=1, description="relative gap in [0, 1) at which a solve may stop"
    )
    threads: int = Field(default=1, ge=1, le=256)
    seed: int = Field(
        default=0, ge=0, le=2**31 - 2, description="random seed of the solver (HiGHS takes 0..2^31-1)"
    )
    tie_break: bool = Field(
        default=True, description="run the distance and site-id tie-break stages"
    )
    aggregation: Literal["auto", "lp_guided", "on", "off"] = Field(
        default="auto",
        description="very large max coverage: lp_guided = PDLP bound + restricted exact MIPs "
        "(netplan.optimize.lpguided); on = iterative grid aggregation (netplan.optimize.aggregation, planar or "
        "haversine travel); off = the plain MILP; auto = lp_guided when the merged model has "
        "more than 100 000 demand rows",
    )


class CapacitySpec(StrictModel):
    """Outlet capacities: an outlet serves at most its capacity of demand weight.

    Under capacities a customer counts as covered at a loading level only when assigned to
    an open outlet within reach that has room for it (covered = assigned).
    """

    per_tier: dict[str, float] = Field(
        description="capacity in demand weight per tier key; a site column capacity_<tier> overrides it; "
        "a tier without an entry is unlimited"
    )
    levels: list[str] | None = Field(
        default=None,
        description="service levels whose demand loads the outlet serving it (default: every level)",
    )
    single_source: bool = Field(
        default=False,
        description="each demand point is served whole by one outlet (else it may be split)",
    )
    min_utilisation: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="an open outlet must be loaded to at least this share of its capacity",
    )

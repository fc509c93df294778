"""Published optima of the OR-Library instances (J. E. Beasley), the oracle of the OR-Library tests.

Kept here, beside the tests, not in the code under test. Source: the tables of
``shared/benchmarks/orlib/README.md`` (the instances' folder), copied from Beasley's
OR-Library: p-median optima of pmed1-20 (Beasley, "A note on solving large p-median
problems", EJOR 21, 1985), optimal vertex p-center radii on the same graphs, and the
uncapacitated optima of cap71-134 (Beasley, "An algorithm for solving large capacitated
warehouse location problems", EJOR 33, 1988). Published copies of the cap values differ in
the last digit: compare with a relative tolerance of about 1e-6.
"""

PMED_OPTIMA = {
    "pmed1": 5819, "pmed2": 4093, "pmed3": 4250, "pmed4": 3034, "pmed5": 1355,
    "pmed6": 7824, "pmed7": 5631, "pmed8": 4445, "pmed9": 2734, "pmed10": 1255,
    "pmed11": 7696, "pmed12": 6634, "pmed13": 4374, "pmed14": 2968, "pmed15": 1729,
    "pmed16": 8162, "pmed17": 6999, "pmed18": 4809, "pmed19": 2845, "pmed20": 1789,
}  # fmt: skip
PCENTER_RADII = dict(
    zip(
        (f"pmed{i}" for i in range(1, 21)),
        (127, 98, 93, 74, 48, 84, 64, 55, 37, 20, 59, 51, 36, 26, 18, 47, 39, 28, 18, 13),
        strict=True,
    )
)
UFL_OPTIMA = {
    "cap71": 932615.750, "cap72": 977799.400, "cap73": 1010641.450, "cap74": 1034976.975,
    "cap101": 796648.437, "cap102": 854704.200, "cap103": 893782.112, "cap104": 928941.750,
    "cap131": 793439.562, "cap132": 851495.325, "cap133": 893076.712, "cap134": 928941.750,
}  # fmt: skip

"""``netplan compare`` of two roadmap runs (issue 25): per phase and level the coverage, per
phase the money, the coverage-years and the actions that differ — every figure recomputed here
from the two runs' phases.csv, roadmap.csv and run.json; the refusals word for word; the page
in English and zh-CN, in Chromium at phone and desktop sizes."""

from __future__ import annotations

import copy
import html
import json
import re
import shutil

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import netplan
from netplan import Scenario
from netplan._errors import CompareError
from netplan.compare.roadmaps import RoadmapComparison
from netplan.compare.runs import read_run
from netplan.present.messages.en import MESSAGES as EN
from netplan.present.messages.zh_CN import MESSAGES as ZH
from netplan.roadmap_pipeline import run_roadmap, write_roadmap

from conftest import chromium_path, on_ci, write_small_case

PHASES = [
    {"name": "2027 pilot", "years": 1, "budget": {"capex": 300}},
    {"name": "2028-2030", "years": 3, "budget": {"capex": 400}, "growth": {"all": 1.3}},
]
ZH_TIERS = [
    {"key": "hub", "name": "区域中心", "reach": "8 km"},
    {"key": "point", "name": "社区服务站", "reach": "2 km", "linkage": "12 km"},
]


def roadmap_run(folder, phases=PHASES, regions=False, **changes):
    """A small roadmap run (about a second) written to ``folder/out``; ``regions``: the demand
    split into North and South."""
    path = write_small_case(folder / "case", phases=phases, **changes)
    raw = yaml.safe_load(path.read_text())
    del raw["costs"]["horizon_years"]
    raw["budget"] = {}
    if regions:
        demand = pd.read_csv(folder / "case" / "demand.csv")
        demand["area"] = ["North" if lat > 47.175 else "South" for lat in demand["lat"]]
        demand.to_csv(folder / "case" / "demand.csv", index=False)
        raw["demand"]["region"] = "area"
    run = run_roadmap(Scenario.from_dict(raw, base_dir=folder / "case"))
    return write_roadmap(run, folder / "out")


def with_pilot_capex(capex: float, phases=PHASES) -> list[dict]:
    changed = copy.deepcopy(phases)
    changed[0]["budget"]["capex"] = capex
    return changed


def cli(*args: str):
    from netplan.cli import app

    return CliRunner().invoke(app, ["compare", *map(str, args)], env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """Roadmap A (pilot capex 300) and B (pilot capex 600), compared by the CLI once."""
    root = tmp_path_factory.mktemp("cmprm")
    a = roadmap_run(root / "a", regions=True)
    b = roadmap_run(root / "b", with_pilot_capex(600), regions=True)
    res = cli(a, b, "--out", root / "cmp")
    assert res.exit_code == 0, res.output
    return a, b, root / "cmp", res.output


@pytest.fixture(scope="module")
def zh_pair(tmp_path_factory):
    """The same in zh-CN, a phase name holding markup (it must reach the page as text)."""
    root = tmp_path_factory.mktemp("cmprmzh")
    phases = copy.deepcopy(PHASES)
    phases[1]["name"] = "2028-2030 <扩展>"
    a = roadmap_run(root / "a", phases, locale="zh-CN", tiers=ZH_TIERS)
    b = roadmap_run(root / "b", with_pilot_capex(600, phases), locale="zh-CN", tiers=ZH_TIERS)
    res = cli(a, b, "--out", root / "cmp")
    assert res.exit_code == 0, res.output
    return a, b, root / "cmp", res.output


# --------------------------------------------------------------- figures, recomputed
def expected_deltas(a, b) -> pd.DataFrame:
    """phase_deltas.csv as it must be, from the two phases.csv alone."""
    pa, pb = pd.read_csv(a / "phases.csv"), pd.read_csv(b / "phases.csv")
    levels = [c.removeprefix("covered_pct_") for c in pa.columns if c.startswith("covered_pct_")]
    rows = []
    for (_, ra), (_, rb) in zip(pa.iterrows(), pb.iterrows(), strict=True):
        assert ra["phase"] == rb["phase"]
        for level in levels:
            va, vb = round(ra[f"covered_pct_{level}"], 2), round(rb[f"covered_pct_{level}"], 2)
            rows.append((ra["phase"], "covered_pct", level, va, vb, round(vb - va, 2)))
        for col in ("capex", "capex_budget", "opex_per_year", "opex_budget", "total"):
            if pd.isna(ra[col]) and pd.isna(rb[col]):
                continue
            va, vb = float(round(ra[col])), float(round(rb[col]))
            rows.append((ra["phase"], col, "", va, vb, vb - va))
    return pd.DataFrame(rows, columns=["phase", "figure", "level", "a", "b", "delta"])


def test_phase_deltas_are_the_differences_of_the_runs_phase_tables(pair):
    a, b, out, _ = pair
    got = pd.read_csv(out / "phase_deltas.csv", dtype={"level": str})
    got["level"] = got["level"].fillna("")
    want = expected_deltas(a, b)
    assert list(got.columns) == ["phase", "figure", "level", "level_name", "a", "b", "delta"]
    pd.testing.assert_frame_equal(
        got.drop(columns="level_name"), want, check_dtype=False, atol=1e-9
    )
    # the budget run B doubles the pilot's capex budget: the deltas of the files say so
    pilot = got.loc[got["phase"] == "2027 pilot"].set_index(["figure", "level"])
    assert pilot.loc[("capex_budget", ""), ["a", "b", "delta"]].tolist() == [300, 600, 300]
    assert pilot.loc[("covered_pct", "point"), "delta"] > 0  # more money, more coverage
    # compare.json holds the same figures per phase, money in whole units
    summary = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    assert summary["kind"] == "roadmap"
    assert [p["phase"] for p in summary["phases"]] == ["today", "2027 pilot", "2028-2030"]
    for p in summary["phases"]:
        rows = want.loc[want["phase"] == p["phase"]]
        for r in rows.itertuples():
            got_fig = (
                p["covered_pct"][r.level] if r.figure == "covered_pct" else p["money"][r.figure]
            )
            assert got_fig == {
                "a": pytest.approx(r.a),
                "b": pytest.approx(r.b),
                "delta": pytest.approx(r.delta),
            }
            if r.figure != "covered_pct":
                assert all(isinstance(v, int) for v in got_fig.values())


def test_region_deltas_are_those_of_the_runs_kpi_tables(pair):
    """Per region, phase and level: covered % of kpis.csv in A and B, Δ of those; on the page
    as "A → B (Δ)" under the region and phase."""
    a, b, out, _ = pair
    ka, kb = (pd.read_csv(r / "kpis.csv") for r in (a, b))
    ka, kb = (k.loc[k["region"] != "all"] for k in (ka, kb))
    assert sorted(set(ka["region"])) == ["North", "South"]
    got = pd.read_csv(out / "region_deltas.csv")
    assert list(got.columns) == ["region", "phase", "level", "level_name", "a", "b", "delta"]
    assert len(got) == len(ka) == 2 * 3 * 2  # regions × (today + 2 phases) × levels
    page = html.unescape((out / "compare.html").read_text(encoding="utf-8"))
    rows = re.findall(r"<tr>(.*?)</tr>", page.split('id="regions"')[1].split("</table>")[0])
    cells = [re.findall(r"<td>(.*?)</td>", r) for r in rows]
    for r in got.itertuples():
        va = ka.loc[
            (ka["phase"] == r.phase) & (ka["region"] == r.region) & (ka["level"] == r.level),
            "covered_pct",
        ]
        vb = kb.loc[
            (kb["phase"] == r.phase) & (kb["region"] == r.region) & (kb["level"] == r.level),
            "covered_pct",
        ]
        assert (r.a, r.b) == (va.item(), vb.item())
        assert r.delta == pytest.approx(round(vb.item() - va.item(), 1))
        level = ["hub", "point"].index(r.level)
        row = next(c for c in cells if c[:2] == [r.region, r.phase])
        assert row[2 + level] == f"{r.a:.1f} → {r.b:.1f} ({r.delta:+.1f})"
    summary = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    assert len(summary["regions"]) == len(got)


def test_coverage_years_and_terminal_lines_add_up_as_printed(pair):
    a, b, out, output = pair
    ra, rb = (json.loads((r / "run.json").read_text())["coverage_years"] for r in (a, b))
    ea, eb = round(ra["exact"], 1), round(rb["exact"], 1)
    summary = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    assert summary["coverage_years"]["roadmap"] == {
        "a": ea,
        "b": eb,
        "delta": pytest.approx(round(eb - ea, 1)),
    }
    ga, gb = round(ra["greedy"], 1), round(rb["greedy"], 1)
    assert summary["coverage_years"]["greedy"] == {
        "a": ga,
        "b": gb,
        "delta": pytest.approx(round(gb - ga, 1)),
    }
    line = f"Coverage-years of the roadmap: A {ea:,.1f} → B {eb:,.1f} (Δ {eb - ea:+,.1f})"
    assert line in output and line in html.unescape(
        (out / "compare.html").read_text(encoding="utf-8")
    )
    # a coverage cell and a money cell of the terminal, from phases.csv
    pa, pb = (pd.read_csv(r / "phases.csv").set_index("phase") for r in (a, b))
    ca, cb = pa.at["2027 pilot", "covered_pct_point"], pb.at["2027 pilot", "covered_pct_point"]
    assert f"{ca:.2f} → {cb:.2f} ({round(cb, 2) - round(ca, 2):+.2f})" in output
    ta, tb = round(pa.at["2028-2030", "total"]), round(pb.at["2028-2030", "total"])
    assert f"{ta:,} → {tb:,} ({tb - ta:+,})" in output
    assert (
        "outputs: " in output
        and "phase_deltas.csv, region_deltas.csv, actions.csv, compare.json, compare.html" in output
    )
    files = sorted(p.name for p in out.iterdir())
    assert files == [
        ".netplan-output",
        "actions.csv",
        "compare.html",
        "compare.json",
        "phase_deltas.csv",
        "region_deltas.csv",
    ]


KIND = {"open": "open", "close": "close", "upgrade": "change", "downgrade": "change"}


def expected_actions(a, b, same: list | None = None) -> dict[tuple[str, str], str]:
    """(site, kind of action) → difference, from the two roadmap.csv alone; the keys of the
    actions alike in both are appended to ``same``."""

    def keyed(run):
        frame = pd.read_csv(run / "roadmap.csv", dtype=str, keep_default_na=False)
        return {
            (r.site_id, KIND[r.action]): (r.phase, r.action, r.tier_before, r.tier_after)
            for r in frame.itertuples()
        }

    ka, kb = keyed(a), keyed(b)
    out = {}
    for key in ka.keys() | kb.keys():
        if key not in kb:
            out[key] = "only_a"
        elif key not in ka:
            out[key] = "only_b"
        elif ka[key] == kb[key]:
            if same is not None:
                same.append(key)
        else:
            (pa, _, _, ta), (pb, _, _, tb) = ka[key], kb[key]
            out[key] = (
                ("phase_and_tier" if ta != tb else "phase")
                if pa != pb
                else ("tier" if ta != tb else "action")
            )
    return out


def actions_of(out) -> dict[tuple[str, str], str]:
    frame = pd.read_csv(out / "actions.csv", dtype=str, keep_default_na=False)
    kind = [KIND[x or y] for x, y in zip(frame["action_a"], frame["action_b"], strict=True)]
    return dict(zip(zip(frame["site_id"], kind, strict=True), frame["difference"], strict=True))


def test_actions_that_differ_are_those_of_the_two_roadmaps(pair):
    a, b, out, output = pair
    want = expected_actions(a, b)
    assert want and actions_of(out) == want
    frame = pd.read_csv(out / "actions.csv", dtype=str, keep_default_na=False)
    assert list(frame.columns) == ["site_id", "name", "difference", "phase_a", "action_a", "tier_before_a",
                                   "tier_a", "capex_a", "phase_b", "action_b", "tier_before_b", "tier_b", "capex_b"]  # fmt: skip
    ra = pd.read_csv(a / "roadmap.csv", dtype=str, keep_default_na=False)
    for r in frame.loc[frame["difference"] == "phase"].itertuples():
        row = ra.loc[ra["site_id"] == r.site_id].iloc[0]
        assert (r.phase_a, r.action_a, r.tier_a) == (row.phase, row.action, row.tier_after)
    same: list = []
    expected_actions(a, b, same)
    summary = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    assert summary["actions"]["same"] == len(same) > 0
    n_same = len(same)
    counts = pd.Series(list(want.values())).value_counts()
    assert f"Actions: {n_same} the same in both, {len(want)} differ (" in output
    for diff, n in counts.items():
        assert summary["actions"][diff] == n
        assert EN[f"cmprm.count.{diff}"].format(n=n) in output


def test_every_kind_of_difference_in_an_edited_roadmap(pair, tmp_path):
    """B's roadmap.csv edited as netplan could have written it: an open moved to another phase
    and tier, an upgrade dropped, an open only in B, one in A only; each is named."""
    a, _, _, _ = pair
    b = tmp_path / "b"
    shutil.copytree(a, b)
    actions = pd.read_csv(b / "roadmap.csv", dtype=str, keep_default_na=False)
    opens = actions.index[actions["action"] == "open"]
    first, second, third = opens[0], opens[1], opens[2]
    actions.loc[first, ["phase", "tier_after"]] = ["2028-2030", "hub"]  # another phase and tier
    actions.loc[second, "tier_after"] = "hub"  # another tier
    dropped = actions.loc[third, "site_id"]
    actions = actions.drop(index=third)  # only in A
    extra = {"phase": "2027 pilot", "site_id": "S29", "name": "Site 29", "tier_before": "",
             "tier_after": "point", "action": "open", "capex": "40.0"}  # fmt: skip
    actions = pd.concat([actions, pd.DataFrame([extra])], ignore_index=True)
    actions.to_csv(b / "roadmap.csv", index=False)
    c = netplan.compare(a, b)
    assert isinstance(c, RoadmapComparison)
    got = dict(zip(zip(c.actions["site_id"], c.actions["action_a"].where(c.actions["action_a"] != "", c.actions["action_b"]).map(KIND), strict=True),
                   c.actions["difference"], strict=True))  # fmt: skip
    assert got == expected_actions(a, b)
    ids = pd.read_csv(a / "roadmap.csv", dtype=str)["site_id"]
    assert got[(ids[first], "open")] == "phase_and_tier"
    assert got[(ids[second], "open")] == "tier"
    assert got[(dropped, "open")] == "only_a" and got[("S29", "open")] == "only_b"


def test_notes_say_what_changes_the_meaning_of_a_delta(pair, tmp_path):
    """A phase of the same name lasting other years, another objective, a roadmap not proven
    optimal: each a note, in the terminal, compare.json and the page."""
    a, _, _, _ = pair
    b = tmp_path / "b"
    shutil.copytree(a, b)
    record = json.loads((b / "run.json").read_text())
    record["status"], record["objective"] = "time_limit", "final_first"
    (b / "run.json").write_text(json.dumps(record))
    phases = pd.read_csv(b / "phases.csv")
    phases.loc[2, "years"] = 4.0
    phases.to_csv(b / "phases.csv", index=False)
    res = cli(a, b, "--out", tmp_path / "cmp")
    assert res.exit_code == 0, res.output
    notes = [
        "phases of the same name last different years (A/B): 2028-2030 (3/4); their "
        "coverage-years weigh them differently",
        "the roadmaps' objectives differ (A: coverage_years; B: final_first)",
        "roadmap B is not proven optimal (status time_limit)",
        "both runs used the same scenario file content",  # B is a copy of A, edited
    ]
    summary = json.loads((tmp_path / "cmp" / "compare.json").read_text(encoding="utf-8"))
    assert summary["notes"] == notes
    assert summary["phases"][2]["years"] == {"a": 3.0, "b": 4.0}
    # B's own roadmap is its final_first one now: its coverage-years are that figure
    fb = round(record["coverage_years"]["final_first"], 1)
    assert summary["coverage_years"]["roadmap"]["b"] == fb
    page = html.unescape((tmp_path / "cmp" / "compare.html").read_text(encoding="utf-8"))
    output = re.sub(r"\s+", " ", res.output)
    for note in notes:
        assert f"Note: {note}" in page and f"note: {note}" in output


def test_currency_of_the_runs_shows_on_the_page(pair, tmp_path):
    """Money in the runs' currency when run.json names one (``scenario.currency``)."""
    a, b, _, _ = pair
    runs = []
    for run in (a, b):
        copy_ = tmp_path / run.parent.name
        shutil.copytree(run, copy_)
        record = json.loads((copy_ / "run.json").read_text())
        record["scenario"]["currency"] = "EUR"
        (copy_ / "run.json").write_text(json.dumps(record))
        runs.append(copy_)
    res = cli(*runs, "--out", tmp_path / "cmp")
    assert res.exit_code == 0, res.output
    page = html.unescape((tmp_path / "cmp" / "compare.html").read_text(encoding="utf-8"))
    pa, pb = (pd.read_csv(r / "phases.csv").set_index("phase") for r in (a, b))
    ca, cb = round(pa.at["2027 pilot", "capex"]), round(pb.at["2027 pilot", "capex"])
    assert f"EUR\xa0{ca:,} → EUR\xa0{cb:,} (EUR\xa0{cb - ca:+,})" in page.replace("EUR ", "EUR\xa0")
    assert f"EUR {ca:,} → EUR {cb:,}" in res.output.replace("\xa0", " ")


# ------------------------------------------------------------------- refusals
@pytest.fixture(scope="module")
def single_plan(tmp_path_factory):
    from netplan.pipeline import run_scenario, write_run

    root = tmp_path_factory.mktemp("single")
    result = run_scenario(Scenario.from_yaml(write_small_case(root / "case")))
    write_run(result, root / "out")
    return root / "out"


def refused(tmp_path, a, b) -> str:
    res = cli(a, b, "--out", tmp_path / "cmp")
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and not (tmp_path / "cmp").exists()
    lines = [x for x in res.output.splitlines() if x.strip()]
    assert len(lines) == 1, res.output
    return lines[0]


def test_a_roadmap_against_a_single_plan_is_refused(pair, single_plan, tmp_path):
    a = pair[0]
    assert refused(tmp_path, a, single_plan) == (
        f"error: cannot compare {a} with {single_plan}: A is a roadmap run (phases) and B a "
        "single-plan run; compare two roadmaps (scenarios with 'phases') or two single plans"
    )
    assert refused(tmp_path, single_plan, a) == (
        f"error: cannot compare {single_plan} with {a}: B is a roadmap run (phases) and A a "
        "single-plan run; compare two roadmaps (scenarios with 'phases') or two single plans"
    )
    with pytest.raises(CompareError, match="a roadmap run \\(phases\\), not a single plan"):
        read_run(a)


def test_roadmaps_of_different_phases_are_refused_naming_both_lists(pair, tmp_path):
    a = pair[0]
    phases = copy.deepcopy(PHASES)
    phases[1]["name"] = "2028-2031"
    c = roadmap_run(tmp_path / "c", phases)
    assert refused(tmp_path, a, c) == (
        f"error: cannot compare {a} with {c}: different phases (A: 2027 pilot, 2028-2030; "
        "B: 2027 pilot, 2028-2031); compare roadmaps planned with the same phase names, in the same order"
    )


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("format_version", 2, "error: B: roadmap run.json format 2; this netplan reads roadmap format 1; "
                              "compare it with the netplan that wrote it or run it again"),
        ("kind", "sweep", "error: {b}/run.json: kind \"sweep\" is not a run netplan compare reads "
                          "(a single plan or a roadmap); give a folder written by `netplan run`"),
    ],
)  # fmt: skip
def test_other_formats_and_kinds_are_refused(pair, tmp_path, field, value, expected):
    a = pair[0]
    b = tmp_path / "b"
    shutil.copytree(a, b)
    record = json.loads((b / "run.json").read_text())
    record[field] = value
    (b / "run.json").write_text(json.dumps(record))
    assert refused(tmp_path, a, b) == expected.format(b=b)


def test_a_hand_edited_phases_table_names_the_row(pair, tmp_path):
    a = pair[0]
    b = tmp_path / "b"
    shutil.copytree(a, b)
    phases = pd.read_csv(b / "phases.csv")
    phases["capex"] = phases["capex"].astype(object)
    phases.loc[1, "capex"] = "lots"
    phases.to_csv(b / "phases.csv", index=False)
    assert refused(tmp_path, a, b) == (
        f"error: {b}/phases.csv: row 3: column 'capex' is \"lots\", not what netplan writes; "
        "was the file edited? run `netplan run` again to rewrite it"
    )


# --------------------------------------------------------------------- zh-CN, page
def test_zh_comparison_speaks_chinese_and_escapes_names(zh_pair):
    a, b, out, output = zh_pair
    page = (out / "compare.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page
    for key in ("cmprm.coverage_title", "cmprm.money_title", "cmprm.actions_title", "cmprm.no_map",
                "cmprm.col.capex", "cmprm.diff.phase"):  # fmt: skip
        assert ZH[key] in page, key
    assert "Coverage by phase" not in page and "Actions that differ" not in page
    assert "2028-2030 &lt;扩展&gt;" in page and "<扩展>" not in page  # a phase name is text
    assert "区域中心 %：A → B（变化）" in page
    assert ZH["cmprmterm.coverage"] in output and "路线图的覆盖人年：A " in output
    assert "covered % by phase" not in output


@pytest.mark.skipif(
    chromium_path() is None and not on_ci(), reason="Chromium is not installed (CI installs it)"
)
@pytest.mark.parametrize(("width", "height"), [(390, 844), (1440, 900)])
def test_compare_page_opens_in_chromium(pair, zh_pair, width, height):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(),
                                    args=["--no-sandbox", "--disable-gpu", "--no-first-run"])  # fmt: skip
        for a, _, out, _ in (pair, zh_pair):
            page = browser.new_context(
                viewport={"width": width, "height": height}, offline=True
            ).new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            page.on(
                "console",
                lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None,
            )
            page.on(
                "request",
                lambda r, errors=errors: (
                    errors.append(r.url) if not r.url.startswith("file:") else None
                ),
            )
            page.goto((out / "compare.html").as_uri())
            page.wait_for_load_state("load")
            assert errors == []
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            phases = pd.read_csv(a / "phases.csv")
            assert page.locator("#coverage tbody tr").count() == len(phases)  # today and each phase
            assert page.locator("#money tbody tr").count() == len(phases) - 1
            assert page.locator("#actions tbody tr").count() == len(
                pd.read_csv(out / "actions.csv")
            )
            first = page.locator("#coverage tbody tr").nth(1).inner_text()
            assert re.sub(r"\s+", " ", first).startswith(str(phases["phase"].iloc[1]))
        browser.close()


EDITED = "not what netplan writes; was the file edited? run `netplan run` again to rewrite it"


def _edit_action(b, column, value):
    actions = pd.read_csv(b / "roadmap.csv", dtype=str, keep_default_na=False)
    actions.loc[0, column] = value
    actions.to_csv(b / "roadmap.csv", index=False)


def _edit_record(b, _column, value):
    record = json.loads((b / "run.json").read_text())
    record["phases"][0]["name"] = value
    (b / "run.json").write_text(json.dumps(record))


@pytest.mark.parametrize(
    ("edit", "column", "value", "expected"),
    [
        (_edit_action, "action", "teleport",
         "{b}/roadmap.csv: row 2: an action other than open, close, upgrade, downgrade, " + EDITED),
        (_edit_action, "phase", "2099", "{b}/roadmap.csv: row 2: a phase that is not in phases.csv, " + EDITED),
        (_edit_action, "tier_after", "palace", "{b}/roadmap.csv: row 2: a tier that is not a level of kpis.csv, " + EDITED),
        (_edit_record, "", "pilot",
         "{b}/run.json: field 'phases' names ['pilot', '2028-2030'], phases.csv ['2027 pilot', '2028-2030']; " + EDITED),
        (lambda b, *_: (b / "phases.csv").unlink(), "", "",
         "{b}: not a netplan roadmap run folder (no phases.csv); give a folder written by `netplan run`"),
    ],
)  # fmt: skip
def test_a_hand_edited_roadmap_folder_is_refused_naming_file_and_row(
    pair, tmp_path, edit, column, value, expected
):
    a = pair[0]
    b = tmp_path / "b"
    shutil.copytree(a, b)
    edit(b, column, value)
    assert refused(tmp_path, a, b) == "error: " + expected.format(b=b)


def test_cells_add_up_as_printed_and_a_one_sided_budget_has_no_delta():
    from netplan.compare.roadmap_page import coverage_cell, money_cell

    # the exact Δ 20.5773 would print +20.58; the Δ of the two figures shown is +20.57
    assert coverage_cell(41.6768, 62.2541, "en") == "41.68 → 62.25 (+20.57)"
    assert money_cell(280.4, 600.6, None, "en") == "280 → 601 (+321)"
    assert money_cell(300.0, float("nan"), "EUR", "en").replace("\xa0", " ") == "EUR 300 → n/a"
    assert money_cell(float("nan"), float("nan"), "EUR", "en") == ""
    assert money_cell(1000.0, 1500.0, "CNY", "zh-CN") == "¥1,000 → ¥1,500 (¥+500)"

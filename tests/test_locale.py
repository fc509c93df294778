"""``locale: zh-CN``: one message catalogue for report.html and the terminal summary, numbers and
money by babel, no text in images (no CJK font on a bare machine), the locale error line."""

from __future__ import annotations

import html as htmllib
import json
import re
import string
import warnings
from html.parser import HTMLParser

import pandas as pd
import pytest
from typer.testing import CliRunner

import netplan
from netplan.present.formats import cell, format_money, number
from netplan.present.i18n import LOCALES, t
from netplan.present.messages.en import MESSAGES as EN
from netplan.present.messages.zh_CN import MESSAGES as ZH

from conftest import chromium_path, on_ci, write_small_case

ZH_TIERS = [
    {"key": "hub", "name": "区域中心", "reach": "8 km"},
    {"key": "point", "name": "社区服务站", "reach": "2 km", "linkage": "12 km"},
]
COSTS = {
    "currency": "CNY",
    "horizon_years": 2,
    "direct": {
        "hub": {"open": 500, "operate": 100, "convert": 200, "close": 50},
        "point": {"open": 40, "operate": 10, "convert": 20, "close": 5},
    },
}


class _Visible(HTMLParser):
    """The text a reader sees: element text and alt/title attributes, no style or script."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.hidden += tag in ("style", "script")
        self.parts += [v for k, v in attrs if k in ("alt", "title") and v]

    def handle_endtag(self, tag):
        self.hidden -= tag in ("style", "script")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _Visible()
    parser.feed(page)
    return "\n".join(parser.parts)


def english_labels() -> dict[str, list[str]]:
    """Per key, the English words of its message (placeholders cut out) that differ in zh-CN."""
    found = {}
    for key, value in EN.items():
        pieces = [p.strip(" ,.;:()–→") for p in re.split(r"\{[^}]*\}", value)]
        words = [p for p in pieces if re.search("[A-Za-z]{2}", p) and p not in ZH[key]]
        if words:
            found[key] = words
    return found


def leaked(text: str) -> list[tuple[str, str]]:
    """English catalogue labels present in ``text`` as whole words."""
    return [
        (key, word)
        for key, words in english_labels().items()
        for word in words
        if re.search(r"(?<![A-Za-z_])" + re.escape(word) + r"(?![A-Za-z_])", text)
    ]


def data_names_out(text: str) -> str:
    """``text`` without the small case's site names ("Site 3", "Hub One"): data, shown as given."""
    return re.sub(r"Site \d+|Hub One|Point Two|Point Three", "", text)


@pytest.fixture(scope="module")
def zh_run(tmp_path_factory):
    """The small case in zh-CN with Chinese tier names, run by the CLI (terminal + pages)."""
    folder = tmp_path_factory.mktemp("zh")
    path = write_small_case(folder / "case", locale="zh-CN", tiers=ZH_TIERS, costs=COSTS)
    from netplan.cli import app

    with warnings.catch_warnings():
        # matplotlib's "Glyph … missing from current font(s)": an error, not a tofu box
        warnings.filterwarnings("error", message=r"(?s).*missing from (current )?font")
        res = CliRunner().invoke(
            app, ["run", str(path), "--out", str(folder / "out")], env={"COLUMNS": "400"}
        )
    assert res.exit_code == 0, res.output
    return folder / "out", res.output


# ---------------------------------------------------------------- catalogue
def test_every_key_has_a_chinese_entry_with_the_same_placeholders():
    assert set(LOCALES) == {"en", "zh-CN"}
    assert EN.keys() == ZH.keys()
    fields = string.Formatter()
    for key in EN:
        assert ZH[key].strip() or EN[key].strip() == "", key
        names_en = {f for _, f, _, _ in fields.parse(EN[key]) if f}
        names_zh = {f for _, f, _, _ in fields.parse(ZH[key]) if f}
        assert names_en == names_zh, key
        # every zh-CN label that is words is written in Chinese (units and symbols aside)
        if re.search("[A-Za-z]{3}", re.sub(r"\{[^}]*\}", "", EN[key])):
            assert re.search("[\u4e00-\u9fff]", ZH[key]), key


def test_t_fills_placeholders():
    assert t("report.h1", "zh-CN", name="演示") == "演示：网点规划"
    assert t("report.h1", "en", name="demo") == "demo: network plan"
    with pytest.raises(ValueError, match="expected one of en, zh-CN"):
        t("report.h1", "fr", name="x")


# ------------------------------------------------------------------ babel
def test_money_and_numbers_by_babel():
    # babel 2.19's zh_CN: the yuan sign, comma grouping, whole units (half to even as Python)
    assert format_money(1234567.5, "CNY", "zh-CN") == "¥1,234,568"
    assert format_money(1234567.4, "EUR", "zh-CN") == "€1,234,567"
    assert format_money(-20_000, "CNY", "zh-CN", signed=True) == "¥-20,000"
    assert format_money(None, "CNY", "zh-CN") == "无"
    # English keeps the ISO code first, as before babel
    assert format_money(8_480_000.4, "EUR") == "EUR 8,480,000"
    assert format_money(1_695_600.2, "EUR", signed=True) == "EUR +1,695,600"
    assert format_money(-0.3, None, signed=True) == "+0"
    assert number(1234.56, 1, "zh-CN") == "1,234.6"
    assert number(-0.04, 1) == "0.0"
    assert cell(1234.5678, 2, "zh-CN") == "1,234.57"
    assert cell(12345, 1, "en") == "12,345"


# ------------------------------------------------------------- locale key
def test_unknown_locale_is_one_error_line(tmp_path):
    from netplan.cli import app

    path = write_small_case(tmp_path / "case", locale="fr")
    res = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out")], env={"COLUMNS": "400"})
    assert res.exit_code != 0
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert lines == [f"error: {path}: locale: Input should be 'en' or 'zh-CN' (got 'fr'); fix the value"]
    assert not (tmp_path / "out").exists()


def test_default_locale_is_english(tmp_path):
    scenario = netplan.Scenario.from_yaml(write_small_case(tmp_path / "case"))
    assert scenario.locale == "en"


# ------------------------------------------------------------------ report
def test_zh_report_holds_chinese_labels_and_no_english_label(zh_run):
    out, _ = zh_run
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page
    # the CJK font stack comes after the Latin fonts
    assert "'Segoe UI', 'PingFang SC', 'Hiragino Sans GB', 'Microsoft YaHei', 'Noto Sans CJK SC', 'Source Han Sans SC', sans-serif" in page
    text = visible_text(page)
    for key in ("report.summary", "report.worse", "report.targets", "report.scenario",
                "report.per_level", "report.costs", "report.diagnosis", "report.appendix",
                "chart.coverage", "col.covered_today", "word.today", "word.plan", "action.open"):  # fmt: skip
        assert ZH[key] in text, key
    assert "区域中心" in text and "社区服务站" in text  # tier names as the scenario gives them
    # the validator's checks too, from the catalogue (tier keys and figures are data)
    checks = visible_text(re.search(r'<section id="checks">.*?</section>', page, flags=re.S)[0])
    for key in ("report.checks", "check.tier_allowed.rule", "check.tier_allowed.ok",
                "check.linkage.rule", "check.linkage.ok", "check.policies.ok"):  # fmt: skip
        assert ZH[key] in checks, key
    assert t("check.coverage.rule", "zh-CN", level="point") in checks
    assert leaked(data_names_out(text)) == []
    # and the English page does show those labels: the check can fail
    assert ("report.summary", "Executive summary") in leaked("Executive summary")


def test_zh_report_figures(zh_run):
    out, _ = zh_run

    run = json.loads((out / "run.json").read_text())
    page = htmllib.unescape((out / "report.html").read_text(encoding="utf-8"))
    plan_cost, base_cost = run["cost"]["plan"]["total"], run["budget"]["baseline_cost"]
    assert f"2 年内总费用为 ¥{plan_cost:,.0f}" in page
    assert f"费用 ¥{plan_cost:,.0f}（现状 ¥{base_cost:,.0f}）" in page
    # charts hold no text but numbers: their keys are in the page
    svgs = re.findall(r"<svg.*?</svg>", page, flags=re.S)
    assert len(svgs) >= 3
    for svg in svgs:
        for chunk in re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S):
            assert re.fullmatch(r"[\s0-9.,=+\-−]*", re.sub(r"<[^>]+>", "", chunk)), chunk
    assert page.count('<ul class="key">') >= 4
    assert '<li><span style="color: #222">1 =</span> 区域中心</li>' in page  # tick 1 explained
    assert f"<li><span style=\"color: #e07a7a\">●</span> {ZH['report.not_covered'].format(label='社区服务站')}</li>" in page


def test_zh_terminal_summary(zh_run):
    out, output = zh_run

    run = json.loads((out / "run.json").read_text())
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    first = next(i for i, line in enumerate(lines) if line.startswith("规划"))
    assert "现有网点 3 个" in lines[first]
    assert lines[first + 1].startswith("2 年内总费用为 ¥")
    assert lines[first + 2].startswith("全部需求的覆盖率：区域中心 ")
    assert f"2 年费用：现状 ¥{run['budget']['baseline_cost']:,.0f} → 规划 ¥{run['cost']['plan']['total']:,.0f}" in output
    assert "层级" in output and "求解器：HiGHS" in output and "用时 " in output
    summary = "\n".join(line for line in lines if not line.startswith(("✓", "outputs", "输出")))
    assert leaked(re.sub(r"hub|point", "", summary)) == [], summary


# --------------------------------------------------------------------- map
def _tags_to_words(markup: str) -> str:
    """Markup as the words it shows: text, and each tag's title / data-title / alt."""
    shown = lambda m: " ".join(re.findall(r'(?:title|alt)="([^"]*)"', m[0]))  # noqa: E731
    return htmllib.unescape(re.sub(r"<[^>]*>", lambda m: f" {shown(m)} ", markup))


def page_words(page: str) -> str:
    """map.html as words a reader can see: the markup's text and titles, and the strings of our
    scripts (layer names, popups, tooltips: JSON, decoded, their markup reduced to words).
    Vendored libraries (they open with a licence comment), styles and script code are left out."""
    strings = []
    for body in re.findall(r"<script[^>]*>(.*?)</script>", page, flags=re.S):
        if body.lstrip().startswith("/*"):  # Leaflet, the grouped layer control
            continue
        for literal in re.findall(r'"((?:[^"\\]|\\.)*)"', body):
            try:
                strings.append(_tags_to_words(json.loads(f'"{literal}"')))
            except ValueError:
                continue
    markup = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return _tags_to_words(markup) + "\n" + "\n".join(strings)


def test_zh_map_labels(zh_run):
    out, _ = zh_run
    page = (out / "map.html").read_text(encoding="utf-8")
    words = page_words(page)
    for text in (
        ZH["map.key_figures"], ZH["map.legend"], ZH["map.layers"], ZH["map.show_hide"],
        ZH["kpi.note"], ZH["legend.link"], ZH["map.supported_by"], ZH["map.base_plain"],
        t("map.tier_layer", "zh-CN", who="规划", label="社区服务站", n=4),
        t("map.level_group", "zh-CN", label="区域中心"),
        "small：现状 → 规划",
    ):  # fmt: skip
        assert text in words, text
    names = data_names_out(words)
    assert leaked(names) == [], leaked(names)
    assert '"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif' in page


def test_en_map_keeps_english_labels(tmp_path):
    """The default locale: the same words as before the catalogue (and the check finds them)."""
    from netplan.present.webmap import plan_map, save_map

    path = write_small_case(tmp_path / "case")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = netplan.run_scenario(netplan.Scenario.from_yaml(path))
    words = page_words(save_map(plan_map(result), tmp_path / "map.html").read_text(encoding="utf-8"))
    for text in ("Key figures", "Layers", "Show or hide", "point: plan and today", "small: today → plan",
                 "outlet → supporting outlet", "Supported by"):  # fmt: skip
        assert text in words, text
    assert ("map.key_figures", "Key figures") in leaked(words)


# ----------------------------------------------------------------- compare
@pytest.fixture(scope="module")
def zh_compare(zh_run, tmp_path_factory):
    """compare.html of the zh-CN run against a second zh-CN run with twice the budget."""
    out_a, _ = zh_run
    folder = tmp_path_factory.mktemp("zh_b")
    path = write_small_case(folder / "case", locale="zh-CN", tiers=ZH_TIERS, costs=COSTS,
                            budget={"total": "3 x baseline"})  # fmt: skip
    demand = pd.read_csv(folder / "case" / "demand.csv")  # other demand inputs: a note
    demand["customers"] = demand["customers"] * 2
    demand.to_csv(folder / "case" / "demand.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = netplan.run_scenario(netplan.Scenario.from_yaml(path))
    out_b = netplan.write_run(result, folder / "out")
    comparison = netplan.compare(out_a, out_b)
    page = netplan.write_comparison(comparison, folder / "cmp")["map"]
    return comparison, page


def test_zh_compare_labels(zh_compare):
    comparison, page = zh_compare
    html = page.read_text(encoding="utf-8")
    words = page_words(html)
    counts = comparison.change_counts()
    for text in (
        f"{ZH['cmp.added_layer']} ({counts['added']})", ZH["cmp.sites_group"], ZH["cmp.regions_title"],
        t("cmp.level_group", "zh-CN", label="社区服务站"), ZH["cmp.ramp_gained"], ZH["map.layers"],
        ZH["cmp.coverage"], ZH["cmp.cost_delta"], ZH["change.added"],
    ):  # fmt: skip
        assert text in words, text
    assert "¥" in words  # costs in the locale's currency format
    # the note on the changed demand inputs, in Chinese; compare.json keeps it in English
    demand = [n for n in comparison.notes if n.key == "cmp.note.demand_inputs"]
    assert len(demand) == 1 and demand[0].startswith("demand inputs differ (sha256 ")
    assert f"{ZH['cmp.note']} {demand[0].in_locale('zh-CN')}" in words
    assert demand[0].in_locale("zh-CN").startswith("两次运行的需求输入不同（sha256 ")
    assert "demand inputs differ" not in words
    saved = json.loads((page.parent / "compare.json").read_text(encoding="utf-8"))
    assert saved["notes"] == [str(n) for n in comparison.notes] and str(demand[0]) in saved["notes"]
    assert leaked(data_names_out(words)) == []


# ----------------------------------------------------------------- browser
@pytest.mark.skipif(chromium_path() is None and not on_ci(), reason="Chromium is not installed (CI installs it)")
@pytest.mark.parametrize(("width", "height"), [(390, 844), (1440, 900)])
@pytest.mark.parametrize("name", ["report.html", "map.html", "compare.html"])
def test_zh_pages_open_in_chromium(zh_run, zh_compare, name, width, height):
    from playwright.sync_api import sync_playwright

    out = zh_compare[1].parent if name == "compare.html" else zh_run[0]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(),
                                    args=["--no-sandbox", "--disable-gpu", "--no-first-run"])  # fmt: skip
        page = browser.new_context(viewport={"width": width, "height": height}, offline=True).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto((out / name).as_uri())
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)
        assert errors == []
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if name == "report.html":
            assert "执行摘要" in page.inner_text("#summary")
        browser.close()


# ------------------------------------------------------------ validator checks
def _regions(folder):
    """Two regions splitting the small case at its middle longitude (West, East)."""
    import geopandas as gpd
    from shapely.geometry import box

    frame = gpd.GeoDataFrame({"name": ["West", "East"]}, crs="EPSG:4326",
                             geometry=[box(9.4, 47.0, 9.625, 47.3), box(9.625, 47.0, 9.85, 47.3)])  # fmt: skip
    frame.to_file(folder / "regions.geojson", driver="GeoJSON")
    return {"path": "regions.geojson", "id": "name"}


CHECK_RUNS = {
    "plain": {},
    "capacities and span": {
        "capacity": {"per_tier": {"hub": 150, "point": 40}, "min_utilisation": 0.6},
        "span_of_control": {"hub": 3},
    },
    "single source": {"capacity": {"per_tier": {"hub": 150, "point": 40}, "single_source": True}},
    "min_cost targets and counts": {
        "objective": {"type": "min_cost", "targets": {"point": 0.5}},
        "budget": {},
        "counts": [{"tier": "point", "region": "East", "max": 10}, {"tier": "any", "min": 1}],
    },
}


@pytest.fixture(scope="module")
def check_runs(tmp_path_factory):
    """Every check of a few small runs: capacities, span, min_cost targets, counts per region."""
    from netplan.pipeline import run_scenario

    found = {}
    for name, changes in CHECK_RUNS.items():
        folder = tmp_path_factory.mktemp("checks") / "case"
        folder.mkdir()
        if "counts" in changes:
            changes = {**changes, "regions": _regions(folder)}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found[name] = run_scenario(netplan.Scenario.from_yaml(write_small_case(folder, **changes)))
    return found


def test_every_check_reads_in_english_as_the_validator_wrote_it(check_runs):
    """One wording per check: the en catalogue phrases each check as its English rule and detail
    (run.json); zh-CN phrases it in Chinese with the same figures."""
    from netplan.present.report import check_table, check_words

    kinds = set()
    for name, result in check_runs.items():
        for check in result.checks:
            assert check.kind, (name, check)
            kinds.add(check.kind)
            assert check_words(check, "en") == (check.rule, check.detail), (name, check)
            rule, detail = check_words(check, "zh-CN")
            assert re.search("[\u4e00-\u9fff]", rule), (name, rule)
            assert leaked(f"{rule} {detail}") == [], (name, rule, detail)
        table = check_table(result.checks, "zh-CN")
        assert list(table.columns) == [ZH["col.rule"], ZH["col.ok"], ZH["col.detail"]]
        assert list(table[ZH["col.ok"]]) == [ZH["word.yes"]] * len(result.checks)
    assert kinds == {"tier_allowed", "policies", "budget", "linkage", "coverage", "assignment_reach",
                     "capacity", "min_utilisation", "assigned_once", "single_source", "span",
                     "target", "count", "count_region"}  # fmt: skip
    checks = {c.rule: c for c in check_runs["min_cost targets and counts"].checks}
    # the figures behind the words, recomputed: the count per region from the plan's outlets
    out = check_runs["min_cost targets and counts"].plan.outlets
    east = int(((out["tier"] == "point") & (out["region"] == "East")).sum())
    assert checks["count point in East"].detail == f"{east} within [None, 10]"
    assert check_words(checks["count point in East"], "zh-CN") == ("数量 point（East）", f"{east} 在 [None, 10] 之内")
    reach = {c.kind: c for c in check_runs["capacities and span"].checks}["assignment_reach"]
    assert reach.values["unit"] == "m" and reach.detail.endswith(" m")
    assert check_words(reach, "zh-CN")[1].endswith(" 米")


def test_a_failing_check_reads_in_both_locales(check_runs):
    """A plan over its budget (the limit lowered after the solve): the fail wording, both ways."""
    import dataclasses

    from netplan._errors import PlanValidationError
    from netplan.evaluation.validator import check_plan, validate_plan
    from netplan.present.report import check_words

    result = check_runs["plain"]
    cost = result.plan.cost()["total"]
    tight = dataclasses.replace(result.plan, budget={**result.plan.budget, "total": cost - 10})
    failed = [c for c in check_plan(tight, result.evaluation) if not c.ok]
    assert [(c.kind, c.rule) for c in failed] == [("budget", "budget.total")]
    assert failed[0].detail == f"{cost:,.2f} exceeds {cost - 10:,.2f}"
    assert check_words(failed[0], "en") == ("budget.total", failed[0].detail)
    assert check_words(failed[0], "zh-CN") == ("预算上限 budget.total", f"{cost:,.2f} 超过 {cost - 10:,.2f}")
    with pytest.raises(PlanValidationError, match=re.escape(f"budget.total: {failed[0].detail}")):
        validate_plan(tight, result.evaluation)


def test_a_check_without_a_kind_shows_its_own_words():
    """Checks built from text alone (``Check(rule, ok, detail)``) keep working, as written."""
    from netplan.evaluation.validator import Check
    from netplan.present.report import check_table

    table = check_table([Check("spacing", False, "S1 and S2 are 120 m apart")], "zh-CN")
    assert table.values.tolist() == [["spacing", ZH["word.no"], "S1 and S2 are 120 m apart"]]

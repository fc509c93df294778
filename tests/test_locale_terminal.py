"""``locale: zh-CN`` in the terminal: the progress lines of ``netplan run`` and ``netplan sweep``
(stderr), and the whole output of ``netplan compare``, from the message catalogue."""

from __future__ import annotations

import io
import json
import re
import warnings

import pandas as pd
import pytest
from rich.console import Console
from rich.progress import Progress
from test_locale import COSTS, ZH_TIERS, leaked
from typer.testing import CliRunner

import netplan
from netplan.cli import app
from netplan.cli.progress import Steps, solve_text, step_label
from netplan.optimize.progress import SolveProgress
from netplan.present.formats import format_money
from netplan.present.i18n import t
from netplan.present.messages.en import MESSAGES as EN
from netplan.present.messages.zh_CN import MESSAGES as ZH

from conftest import write_small_case

STEPS = ("load", "coverage", "model", "solve:coverage", "solve:cost", "solve:distance",
         "solve:site_id", "evaluate", "write")  # fmt: skip


def _invoke(*args: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = CliRunner().invoke(app, list(args), env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.output
    return res


@pytest.fixture(scope="module")
def zh_runs(tmp_path_factory):
    """Two zh-CN runs by the CLI: A with GeoParquet too; B with three times the budget and twice
    the demand weights (other demand inputs: a note in the comparison)."""
    folder = tmp_path_factory.mktemp("zh_terminal")
    path_a = write_small_case(folder / "a", locale="zh-CN", tiers=ZH_TIERS, costs=COSTS)
    res_a = _invoke("run", str(path_a), "--out", str(folder / "out_a"), "--format", "gpkg,parquet")
    path_b = write_small_case(folder / "b", locale="zh-CN", tiers=ZH_TIERS, costs=COSTS,
                              budget={"total": "3 x baseline"})  # fmt: skip
    demand = pd.read_csv(folder / "b" / "demand.csv")
    demand["customers"] = demand["customers"] * 2
    demand.to_csv(folder / "b" / "demand.csv", index=False)
    _invoke("run", str(path_b), "--out", str(folder / "out_b"))
    return folder, res_a


# --------------------------------------------------------------- progress lines
def test_zh_run_progress_lines_are_chinese(zh_runs):
    _, res = zh_runs
    lines = [line.strip() for line in res.stderr.splitlines() if line.strip()]
    labels = [ZH["step." + s.replace(":", ".")] for s in STEPS]
    assert labels[0] == "读取输入" and labels[4] == "求解：费用"
    for label in labels:  # each step's line, ticked, with its elapsed time
        assert any(re.fullmatch(rf"✓ {re.escape(label)}\s+\d:\d\d:\d\d", line) for line in lines), label
    assert leaked(res.stderr) == [], res.stderr
    assert "load inputs" not in res.stderr and "solve: cost" not in res.stderr


def test_english_step_labels_stay_as_they_were():
    assert [step_label(s) for s in STEPS] == [
        "load inputs", "coverage (in-reach pairs)", "build model", "solve: coverage", "solve: cost",
        "solve: distance tie-break", "solve: site-id tie-break", "evaluate plan and today's network",
        "write outputs",
    ]  # fmt: skip
    assert step_label("support_distance") == "support_distance"  # a step without a label: its name
    # and the leak check finds them: the zh-CN test above can fail
    assert ("step.load", "load inputs") in leaked("✓ load inputs 0:00:00")


def test_zh_stage_line_shows_the_running_solve_in_chinese():
    progress = Progress(console=Console(file=io.StringIO(), width=200))
    steps = Steps(progress, "zh-CN")
    steps("solve:cost", "start")
    p = SolveProgress("HiGHS", elapsed=72.4, incumbent=164375.0, bound=164000.0)
    steps.solver_progress(p)
    task = progress.tasks[steps.tasks["solve:cost"]]
    # gap = 375 / 164,375 = 0.228 %
    assert task.description == "求解：费用 [dim]0:01:12 · 当前最优 164,375 · 界 164,000 · 间隙 0.2 %[/]"
    steps("solve:cost", "done")
    assert task.description == "[green]✓[/] 求解：费用"
    # English: the solver's own line, as before
    assert solve_text(p, "en") == p.text() == "0:01:12 · best 164,375 · bound 164,000 · gap 0.2 %"
    assert solve_text(SolveProgress("CBC", elapsed=5.0), "zh-CN") == "0:00:05"


def test_zh_sweep_progress_is_chinese(zh_runs):
    folder, _ = zh_runs
    res = _invoke("sweep", str(folder / "a" / "scenario.yaml"), "--budgets", "1.1x,1.4x",
                  "--sequential", "--out", str(folder / "sweep"))  # fmt: skip
    assert f"{ZH['step.sweep_solving']}" in res.stderr and "2/2" in res.stderr
    assert "sweep: solving" not in res.stderr


# ------------------------------------------------------------------ outputs line
def test_outputs_line_lists_the_files_written(zh_runs):
    """``--format gpkg,parquet``: the GeoParquet files are on the outputs line too, as written."""
    folder, res = zh_runs
    out = folder / "out_a"
    on_disk = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    parquet = [n for n in on_disk if n.endswith(".parquet")]
    assert "plan_outlets.parquet" in parquet and len(parquet) >= 5
    line = next(line for line in res.stdout.splitlines() if line.startswith("输出："))
    names = re.fullmatch(r"输出：(.*)/（(.*)）", line.strip())
    assert names and names[1] == str(out)
    listed = names[2].split(", ")
    assert sorted(listed) == on_disk
    assert listed[:7] == ["plan.gpkg", "kpis.csv", "outlets.csv", "plan.xlsx", "run.json",
                          "map.html", "report.html"]  # fmt: skip
    assert listed[7:] == sorted(listed[7:]) == parquet


# ------------------------------------------------------------- netplan compare
def test_zh_compare_terminal(zh_runs):
    folder, _ = zh_runs
    res = _invoke("compare", str(folder / "out_a"), str(folder / "out_b"), "--out", str(folder / "cmp"))
    saved = json.loads((folder / "cmp" / "compare.json").read_text(encoding="utf-8"))
    text = res.stdout
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines[0] == t("cmpterm.title", "zh-CN", a="small (out_a)", b="small (out_b)")
    for key in ("col.level", "cmpterm.covered_a", "cmpterm.covered_b", "cmpterm.overlap_delta",
                "cmpterm.mean_delta"):  # fmt: skip
        assert ZH[key] in text, key
    cost = t("cmpterm.cost", "zh-CN", a=format_money(saved["cost_a"], "CNY", "zh-CN"),
             b=format_money(saved["cost_b"], "CNY", "zh-CN"),
             delta=format_money(saved["cost_b"] - saved["cost_a"], "CNY", "zh-CN", signed=True))  # fmt: skip
    assert cost in lines, text
    assert t("cmpterm.sites", "zh-CN", **saved["sites"]) in lines
    # the note on the demand inputs: Chinese here, English in compare.json
    note = next(n for n in saved["notes"] if n.startswith("demand inputs differ (sha256 "))
    a, b = re.findall(r"sha256 (\w+)… vs (\w+)…", note)[0]
    assert f"{ZH['cmpterm.note']} {t('cmp.note.demand_inputs', 'zh-CN', a=a, b=b)}" in lines
    assert lines[-1].startswith("输出：")
    # each level's Δ is the difference of the two figures shown beside it
    for line in lines:
        cells = line.strip("│ ").split("│")
        if len(cells) == 6 and cells[0].strip() in ("区域中心", "社区服务站"):
            before, after, delta = (float(c.strip().replace(",", "")) for c in cells[1:4])
            assert round(after - before, 1) == delta, line
    # file names and folders are data, shown as they are
    words = re.sub(r"[\w.]+\.(csv|json|html)", "", text.replace(str(folder), ""))
    assert leaked(re.sub(r"out_[ab]|small", "", words)) == [], words
    assert EN["cmpterm.note"] not in text and "sites:" not in text


def test_en_compare_terminal_keeps_english(zh_runs, tmp_path):
    """The same two runs, written in English: the words of before (the check above can fail)."""
    folder, _ = zh_runs
    outs = []
    for name in ("a", "b"):
        scenario = netplan.Scenario.from_yaml(folder / name / "scenario.yaml")
        with warnings.catch_warnings():  # Chinese tier names drawn in an English plan image
            warnings.simplefilter("ignore")
            result = netplan.run_scenario(scenario.model_copy(update={"locale": "en"}))
            outs.append(netplan.write_run(result, tmp_path / name))
    res = _invoke("compare", str(outs[0]), str(outs[1]), "--out", str(tmp_path / "cmp"))
    assert "covered % A" in res.stdout and "note: demand inputs differ (sha256 " in res.stdout
    assert ("cmpterm.covered_a", "covered % A") in leaked(res.stdout)
    assert re.search(r"^sites: \d+ added, \d+ removed, \d+ re-tiered$", res.stdout, flags=re.M)


def test_a_note_is_its_english_text_and_keeps_its_key():
    """``Comparison.notes`` stay English strings (compare.json), pickled and copied as notes."""
    import copy
    import pickle

    from netplan.compare import Note

    note = Note("cmp.note.demand_inputs", a="9c2e1594e4", b="9a4e8bbc46")
    assert note == ("demand inputs differ (sha256 9c2e1594e4… vs 9a4e8bbc46…): deltas mix that "
                    "change with the change of plan")  # fmt: skip
    assert json.loads(json.dumps({"notes": [note]}))["notes"] == [str(note)]
    for again in (pickle.loads(pickle.dumps(note)), copy.deepcopy(note)):
        assert type(again) is Note and again == note
        assert again.in_locale("zh-CN") == "两次运行的需求输入不同（sha256 9c2e1594e4… 与 9a4e8bbc46…）：差值中混有这一变化和规划的变化"

"""The fleet report's HTML at fleet size, rendered by ansible's templating and looked at in a headless browser.

report.yml's rows come from live reads (test_site_playbooks.py runs it on the sandbox); here 130 rows in every
stage state go through the real template, so the grid is judged where it matters: at 100+ sites.
"""

import json
import re
from pathlib import Path

import pytest
from playbook_runner import run_playbook
from report_view import EmptyRender, assert_report_painted, rendered_dom, screenshot

REPO = Path(__file__).resolve().parents[3]
TEMPLATE = REPO / "playbooks" / "templates" / "fleet_report.html.j2"
STAGES = ("connect", "taint", "extension", "compute", "storage")
SITES = 130


def fleet_rows(count):
    """`count` report rows (templates/report_row.j2's fields) cycling through every stage state, sorted as
    report.yml sorts them: failing sites first, then drifting ones."""
    cycle = ["ok", "ok", "ok", "drift", "ok", "pending", "ok", "missing", "ok", "failed", "ok", "na"]
    rows = []
    for index in range(count):
        stages = {stage: cycle[(index + 5 * offset) % len(cycle)] for offset, stage in enumerate(STAGES)}
        if index % 4 == 0:
            stages = dict.fromkeys(STAGES, "ok")
        values = set(stages.values())
        status = "failed" if "failed" in values else ("drift" if values - {"ok", "na"} else "ok")
        rows.append({
            "site": f"contoso-store-{index + 1:04d}", "status": status, "stages": stages,
            "problems": ["extension: helm upgrade timed out"] if status == "failed" else [],
            "kubernetes_version": "1.31.8", "nodes": 3, "linux_nodes": 2, "windows_nodes": 1, "windows_tainted": 1,
            "preflight": "passed", "arc": "Connected", "arc_last_seen": "2026-12-06T00:00:00Z", "arc_age": "12 min",
            "arc_age_seconds": 720, "agent_version": "1.24.1" if index % 7 == 0 else "1.26.0", "agent_latest": "1.26.0",
            "agent_behind": index % 7 == 0, "extension": "Succeeded", "extension_version": "1.1.70",
            "compute": "Succeeded", "compute_name": f"contoso-{index:08d}", "drift": [], "last_run": "unchanged",
            "shares": ["training-data: Bound"], "shares_bound": 1, "shares_total": 1,
            "last_run_time": "2026-12-06T00:00:00Z",
        })  # fmt: skip
    rank = {"failed": 0, "drift": 1, "ok": 2}
    return sorted(rows, key=lambda row: (rank[row["status"]], row["site"]))


def render(tmp_path, rows):
    """The report HTML for `rows`, templated by ansible-playbook as report.yml does."""
    variables = tmp_path / "vars.json"
    variables.write_text(json.dumps({"report_rows": rows, "report_unread": [], "report_time": "2026-12-06 01:00 UTC"}))
    html = tmp_path / f"report-{len(rows)}.html"
    play = [{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": [
        {"ansible.builtin.template": {"src": str(TEMPLATE), "dest": str(html), "mode": "0644"}}]}]  # fmt: skip
    playbook = tmp_path / "render.yml"
    playbook.write_text(json.dumps(play))
    run = run_playbook(playbook, {}, tmp_path, "-i", "localhost,", "-e", f"@{variables}")
    assert run.rc == 0, run.output[-3000:]
    return html


def test_grid_at_fleet_size_shows_every_state(tmp_path):
    rows = fleet_rows(SITES)
    html = render(tmp_path, rows)
    states = assert_report_painted(screenshot(html, tmp_path), ["ok", "drift", "pending", "missing", "failed"])
    # The failing sites are at the top, so the first screen is mostly the colour of trouble next to green.
    assert states["failed"] > states["pending"], states

    dom = rendered_dom(html, tmp_path)
    grid_rows = re.findall(r'<tr data-status="(\w+)">\s*<td class="site status-\w+">([^<]+)</td>', dom)
    assert [site for _, site in grid_rows] == [row["site"] for row in rows]
    statuses = [status for status, _ in grid_rows]
    assert statuses == sorted(statuses, key=["failed", "drift", "ok"].index), "failing sites first, then drifting"
    assert dom.count('class="stage st-') == SITES * len(STAGES)
    assert dom.count('<div class="tile"') == SITES
    assert dom.count('class="behind"') == sum(row["agent_behind"] for row in rows)


def test_the_screenshot_check_fails_on_an_empty_render(tmp_path):
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>")
    with pytest.raises(EmptyRender, match="rendered empty"):
        assert_report_painted(screenshot(blank, tmp_path), ["ok"])
    # A report without sites has its headings but no stage cells: not a report of a fleet.
    no_sites = render(tmp_path, [])
    with pytest.raises(EmptyRender):
        assert_report_painted(screenshot(no_sites, tmp_path), ["ok"])

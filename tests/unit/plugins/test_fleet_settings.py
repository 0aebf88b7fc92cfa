"""The fleet settings docs/benchmark.md ("Strategy") measured: a free per-site play and forks sized for a fleet."""

import configparser
from pathlib import Path

import yaml

PLAYBOOKS = Path(__file__).resolve().parents[3] / "playbooks"


def test_the_per_site_play_lets_each_site_go_at_its_own_pace():
    plays = yaml.safe_load((PLAYBOOKS / "site.yml").read_text())
    (per_site,) = [p for p in plays if p.get("name") == "Make each cluster an Azure ML compute target"]
    assert per_site["strategy"] == "{{ arcml_strategy | default('free') }}"
    # Nothing in it may wait for another site: free gives no ordering between hosts.
    text = yaml.safe_dump(per_site)
    assert "run_once" not in text and "hostvars" not in text


def test_ansible_cfg_sizes_forks_for_a_fleet():
    config = configparser.ConfigParser()
    config.read(PLAYBOOKS / "ansible.cfg")
    assert config.getint("defaults", "forks") >= 25

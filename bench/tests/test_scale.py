"""The fleet projection of bench/scale.py: which limit a fleet meets first, from a bench result's figures."""

from bench import scale

SUB = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/c"
STATUS = "/providers/Microsoft.Kubernetes/locations/eastus/operationStatuses/o"


def run(wall, cpu, rss_mib, paths, mean=None):
    return {
        "wall": wall,
        "cpu": cpu,
        "peak_tree_rss": rss_mib * 2**20,
        "arm_by_site_paths": paths,
        "arm_per_site": {"mean": mean if mean is not None else len(paths)},
    }


def result():
    fresh_paths = [f"GET {SUB} -> 404", f"PUT {SUB} -> 201", f"GET {STATUS} -> 200", f"GET {SUB} -> 200"]
    noop_paths = [f"GET {SUB} -> 200", f"POST {SUB}/listKeys -> 200"]
    return {
        "timestamp": "T",
        "lro_seconds": 30,
        "sizes": [
            {"sites": 1, "fresh": run(100, 8, 200, fresh_paths), "noop_runs": [run(9, 5, 150, noop_paths)] * 3},
            {
                "sites": 10,
                "forks": 10,
                "fresh": run(150, 80, 2000, fresh_paths, mean=8),
                "noop_runs": [run(wall, cpu, 1500, noop_paths) for wall, cpu in ((40, 60), (50, 70), (45, 65))],
            },
        ],
    }


def test_one_site_s_requests_are_split_by_bucket_and_scaled_to_the_mean_site():
    figures = scale.per_site(result(), "fresh")
    # 4 paths on the first site, a mean of 8 per site: every count doubles.
    assert figures["subscription_reads"] == 4 and figures["tenant_reads"] == 2 and figures["writes"] == 2
    assert figures["cpu_seconds"] == 8 and figures["memory_mib"] == 200 and figures["site_seconds"] == 100
    noop = scale.per_site(result(), "noop")
    assert noop["writes"] == 1, "a POST (listKeys) takes a write token"
    assert noop["cpu_seconds"] == 6.5, "the median no-op run"
    assert noop["site_seconds"] == 9, "the fastest no-op run of the smallest fleet"


def test_a_bucket_costs_time_only_beyond_its_size():
    assert scale.bucket_seconds(250, scale.READ_BUCKET) == 0
    assert scale.bucket_seconds(1250, scale.READ_BUCKET) == 40
    assert scale.bucket_seconds(1200, scale.WRITE_BUCKET) == 100


def test_more_nodes_shorten_latency_and_cpu_but_not_the_principal_s_arm_buckets():
    figures = scale.per_site(result(), "fresh")
    alone = scale.project(figures, 5000, nodes=1, forks=16, cpus=4)
    sliced = scale.project(figures, 5000, nodes=100, forks=16, cpus=4)
    assert alone["first"] == "latency" and alone["times"]["latency"] == 313 * 100
    assert sliced["times"]["ARM reads"] == alone["times"]["ARM reads"] == (5000 * 4 - 250) / 25
    assert sliced["times"]["ARM writes"] == (5000 * 2 - 200) / 10
    assert sliced["first"] == "ARM writes" and sliced["wall"] == 980


def test_forks_are_the_smaller_of_memory_and_awx_s_cpu_capacity():
    figures = {"memory_mib": 200}
    assert scale.forks_that_fit(figures, memory_gib=16, cpus=4) == 16
    assert scale.forks_that_fit(figures, memory_gib=4, cpus=8) == 10


def test_the_report_names_the_first_limit_for_every_fleet():
    text = scale.report(result(), nodes_options=(1, 10), cpus=4, memory_gib=16)
    assert "| 5,000 | 10 | 16 |" in text and "| ARM reads |" in text
    assert text.count("| 100 |") == 2, "100 sites on one node, fresh and no-op: 10 nodes would not fill their forks"

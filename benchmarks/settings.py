"""Settings of the benchmark tooling: the deployed settings plus this app, so that manage.py finds
`bench`, `bench_kpis` and `generate_scale_data`, and the URLs plus the reference changelist
(benchmarks/urls.py) the load benchmark compares the ledger with. Nothing deployed uses them."""
from portal.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "benchmarks"]  # noqa: F405
ROOT_URLCONF = "benchmarks.urls"

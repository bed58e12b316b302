"""Benchmark and scale tooling: the scale data generator, the load benchmark (`make bench`), the KPI
benchmark and import files at size.

Kept apart from what is deployed: no runtime package imports it and the deployed settings do not
install it. Its commands run with `DJANGO_SETTINGS_MODULE=benchmarks.settings` (the Makefile and
`portal.launcher bench` set it).
"""

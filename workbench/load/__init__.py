"""Load and latency benchmarks: drive engines or RAG services with a concurrency sweep,
constant-rate or Poisson/gamma arrivals, measure vLLM-defined latency metrics, sample
resources on the same timeline, store everything and report where a stack saturates.

Entry points: `workbench bench` (CLI), `workbench.load.sweep.run_bench` (Python),
`workbench.load.report.load_table` (table data for the views).
"""

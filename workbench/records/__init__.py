"""The ground floor: record and contract types every other package builds on.

The response and load records, the RAG request/response schemas, the eval set model and the
run manifest live here. This package imports nothing else of the workbench (only the standard
library and pydantic), so any module may import it without an import circle. See
docs/architecture.md for the floors above it.
"""

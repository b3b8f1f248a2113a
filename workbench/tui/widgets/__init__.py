"""Widgets of the TUI, one per concern, each with its own DEFAULT_CSS."""

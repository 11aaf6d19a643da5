"""Prefect flows: thin layers over the genseq stages, one per CLI command, passing file paths."""

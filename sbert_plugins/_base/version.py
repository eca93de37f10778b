"""The package version (read by pyproject.toml, __init__ and saved model configs)."""

__version__ = "0.2.0"

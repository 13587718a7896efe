"""zurl's command-line front end: items → spec → exchange → render, driven by ``main``."""

__version__ = "0.1.0"

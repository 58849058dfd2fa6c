"""Alembic environment and revisions for the loginbot schema.

A package (not a bare folder) so that setuptools ships `env.py`, `script.py.mako` and the revisions
inside the wheel; Alembic itself loads them by path and ignores the `__init__` files.
"""

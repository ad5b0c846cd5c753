"""Hydra configuration of ``negsim``, installed as the package ``sim.conf``.

This folder holds data only (run settings, behavioural parameters, experiments, launchers and,
through the ``scenario`` link, the shipped scenarios). It is a package so that an installed copy
is found with :mod:`importlib.resources` and by Hydra as ``pkg://sim.conf``.
"""

"""Hydra registration of the command line's typed configs and resolvers.

* ``run_settings``: :class:`RunConfig`, the run settings of :class:`sim.inputs.settings.RunSettings`
  plus the ``scenario`` Hydra composes, the schema of ``conf/config.yaml`` (first in its defaults
  list), so a value of the wrong type stops before the run;
* ``scenario_schema/default``: the typed scenario schema with the shipped behavioural parameter
  set on top, under ``scenario``, so that every declared field can be overridden;
* the ``scenario_label`` resolver and those of :mod:`sim.explore.sweep` used in run directory names.

Tests and notebooks that compose ``conf/`` with Hydra's compose API should import
:mod:`sim.cli.run` (which calls :func:`register_configs`) first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

from sim.inputs.scenarios import behaviour_defaults, scenario_label
from sim.inputs.schema import Scenario
from sim.inputs.settings import RunSettings


@dataclass
class RunConfig(RunSettings):
    """The primary config of the command line: the run settings and the composed scenario."""

    scenario: Any = None


def register_configs() -> None:
    """Register the typed configs and the resolvers (idempotent)."""
    cs = ConfigStore.instance()
    cs.store(name="run_settings", node=RunConfig)
    # The schema's defaults with the shipped behavioural parameter set on top, so that a
    # composed scenario starts from conf/behaviour.yaml like sim.load_scenario does.
    node = OmegaConf.merge(OmegaConf.structured(Scenario), behaviour_defaults())
    cs.store(group="scenario_schema", name="default", node=node, package="scenario")
    if not OmegaConf.has_resolver("scenario_label"):
        OmegaConf.register_new_resolver(
            "scenario_label", lambda *, _root_=None: scenario_label(_root_), use_cache=False
        )
    from sim.explore.sweep import register_resolvers

    register_resolvers()

# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
"""plasma.platform's JupyterHub spawner, installed into the hub's virtualenv by roles/environments."""

from .spawner import PlasmaSpawner
from .swarm import PlasmaSwarmSpawner

# The collection's version (galaxy.yml); tests/unit check they agree.
__version__ = "0.1.0"

__all__ = ["PlasmaSpawner", "PlasmaSwarmSpawner", "__version__"]

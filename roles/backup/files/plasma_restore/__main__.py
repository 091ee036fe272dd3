# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
"""python -m plasma_restore --port PORT --env-file FILE [--folders JSON]: the restore page (see service)."""

from .service import main

main()

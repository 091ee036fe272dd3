# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
"""python -m plasma_usage --port PORT --prometheus URL: the usage page (see service)."""

from .service import main

main()

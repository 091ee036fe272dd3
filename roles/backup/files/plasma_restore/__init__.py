# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
"""The hub's restore page: users browse the backups of their home and of their group folders and restore a file or
a folder beside the live one, as themselves. A JupyterHub service (the backup role installs it into the hub's
virtualenv and the hub runs it, as root, the only account that reads the repository's password).

- repository: what a user may read from restic's snapshots (the rules of paths and folders)
- unpack: what runs as the user to write the restored copy (never through a link)
- service: the pages, the restores in progress, the audit lines
"""

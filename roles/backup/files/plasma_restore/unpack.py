# Copyright (c) 2026, plasma.platform maintainers
# BSD 3-Clause License (see LICENSE)
"""Writes a restored copy, run as the user who asked for it (the service drops root's ids and every capability
before it starts this): a fresh folder FOLDER/restored/STAMP[-N] is made, and the copy written into it from
standard input, a file's bytes or restic's tar of a folder. No link is followed on the way there: each folder is
opened with O_NOFOLLOW from the one above, so a link the user put in place ends the restore instead of leading
it elsewhere. The fresh folder's name is printed first, before anything is read.

    python -I -m plasma_restore.unpack FOLDER STAMP file PATH
    python -I -m plasma_restore.unpack FOLDER STAMP folder PATH STRIP
"""

from __future__ import annotations

import os
import shutil
import sys

DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def enter(parent: int, name: str, create: bool) -> int:
    """The folder name inside parent, made when asked for; never a link."""
    if create:
        try:
            os.mkdir(name, 0o755, dir_fd=parent)
        except FileExistsError:
            pass
    return os.open(name, DIRECTORY, dir_fd=parent)


def fresh(parent: int, stamp: str) -> tuple[str, int]:
    """A new, empty folder named stamp (stamp-2, stamp-3... when taken)."""
    for number in range(1, 1000):
        name = stamp if number == 1 else f"{stamp}-{number}"
        try:
            os.mkdir(name, 0o755, dir_fd=parent)
        except FileExistsError:
            continue
        return name, os.open(name, DIRECTORY, dir_fd=parent)
    raise SystemExit(f"no free name for the restored copy in restored/ ({stamp}-999 is taken)")


def main(argv: list[str]) -> int:
    folder, stamp, kind, path = argv[1:5]
    # A home's copy is the user's; a group folder's is writable by the group, as the group folder is.
    os.umask(0o002 if os.stat(folder).st_mode & 0o020 else 0o022)
    try:
        here = enter(os.open(folder, DIRECTORY), "restored", create=True)
        name, here = fresh(here, stamp)
    except OSError as error:
        print(f"cannot make {folder}/restored/{stamp}: {error.strerror} (is restored, or the folder, a link?)", file=sys.stderr)
        return 1
    print(name, flush=True)
    try:
        if kind == "file":
            *parents, last = path.split("/")
            for parent in parents:
                here = enter(here, parent, create=True)
            target = os.open(last, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666, dir_fd=here)
            with os.fdopen(target, "wb") as out:
                shutil.copyfileobj(sys.stdin.buffer, out, 1 << 20)
            return 0
        os.fchdir(here)
    except OSError as error:
        print(f"cannot write {path} in {folder}/restored/{name}: {error.strerror}", file=sys.stderr)
        return 1
    # restic's tar names every entry by its whole path: the folder's own components are stripped. The folder is
    # new and the user's: tar only ever creates entries here (and keeps any that appeared meanwhile).
    strip = argv[5]
    os.execvp("tar", ["tar", "-x", "-f", "-", f"--strip-components={strip}", "--no-same-owner", "--keep-old-files"])
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

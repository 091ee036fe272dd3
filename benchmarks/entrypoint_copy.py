"""Copying an image's bundled files into the user's environment folder at each start:
the collection's entrypoint against the common recipe, side by side in one run, as ratios.

    .venv/bin/python benchmarks/entrypoint_copy.py [--bundle-files 5000] [--user-files 50000] [--rounds 3]

The recipe (what deployments commonly run on every start, as root):
    cp -r --no-clobber /home/jovyan/* "$folder" && chown -R "$uid:$gid" "$folder"
Ours: roles/environments/files/entrypoint.sh: root reads the bundle into a tar stream, the user
writes it out with tar --skip-old-files, once per image.

Both run inside one container of the Debian test base image, with the bundle at /home/jovyan
and a home whose environment folder already holds the user's own files. "first start": the
bundle was never copied; "later start": it was. Times are medians, in seconds.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENTRYPOINT = ROOT / "roles" / "environments" / "files" / "entrypoint.sh"
IMAGE = "plasma-base:bookworm"

# Runs inside the container as root. $1: rounds. Prints "method case nanoseconds" lines.
SCRIPT = r"""
set -eu
uid=2000 gid=2000 folder=/home/bench/env
now() { date +%s%N; }
reset_first_start() {  # the user's own files only
  rm -rf "$folder"; cp -a /seed/. /home/bench/; chown -R $uid:$gid /home/bench
}
ours() {
  NB_USER=bench NB_UID=$uid NB_GID=$gid HOME=/home/bench PLASMA_ENVIRONMENT_FOLDER=env PLASMA_BUNDLE_ID=sha256:bench \
    sh /opt/plasma/entrypoint.sh true 2>/dev/null
}
recipe() {
  mkdir -p "$folder" && cp -r --no-clobber /home/jovyan/* "$folder" && chown -R $uid:$gid "$folder"
}
for round in $(seq "$1"); do
  for method in ours recipe; do
    reset_first_start
    sync; start=$(now); $method; end=$(now); echo "$method first $((end - start))"
    sync; start=$(now); $method; end=$(now); echo "$method later $((end - start))"
  done
done
"""


def make_tree(root: Path, files: int, per_folder: int = 100) -> None:
    for index in range(files):
        folder = root / f"d{index // per_folder:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{index:06d}.txt").write_text(f"file {index}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle-files", type=int, default=5000)
    parser.add_argument("--user-files", type=int, default=50000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="plasma-bench-") as tmp:
        bundle, seed, home = Path(tmp, "bundle"), Path(tmp, "seed"), Path(tmp, "home")
        home.mkdir()
        make_tree(bundle, options.bundle_files)
        (bundle / ".hidden-settings").write_text("dotfile\n")
        make_tree(seed / "env" / "my-work", options.user_files)
        output = subprocess.run(
            [
                "docker",
                "run",
                "--rm",
                "-v",
                f"{bundle}:/home/jovyan:ro",
                "-v",
                f"{seed}:/seed:ro",
                "-v",
                f"{ENTRYPOINT}:/opt/plasma/entrypoint.sh:ro",
                "-v",
                f"{home}:/home/bench",
                IMAGE,
                "sh",
                "-c",
                SCRIPT,
                "sh",
                str(options.rounds),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    times: dict[tuple[str, str], list[float]] = {}
    for line in output.splitlines():
        method, case, nanoseconds = line.split()
        times.setdefault((method, case), []).append(int(nanoseconds) / 1e9)
    median = {key: sorted(values)[len(values) // 2] for key, values in times.items()}
    print(f"\n{options.bundle_files} bundled files, {options.user_files} user files already in the folder, median of {options.rounds}")
    print(f"{'case':14} {'ours s':>8} {'recipe s':>9} {'recipe/ours':>12}")
    for case in ("first", "later"):
        ours, recipe = median[("ours", case)], median[("recipe", case)]
        print(f"{case + ' start':14} {ours:8.3f} {recipe:9.3f} {recipe / ours:11.1f}x")
    print("recipe/ours above 1 means the entrypoint is faster")


if __name__ == "__main__":
    sys.exit(main())

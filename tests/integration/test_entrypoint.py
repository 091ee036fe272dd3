"""The user containers' entrypoint on real images of the families people run, on this machine's
Docker: images laid out like Docker Stacks and repo2docker (scripts/build-test-images), a user
whose uid is not 1000 and whose primary gid is not 100, started as the hub starts them (as root,
with SystemUserSpawner's environment), the home bind-mounted from the host."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from plasma_spawner.spawner import ENTRYPOINT_CAPABILITIES

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "roles" / "environments" / "files" / "entrypoint.sh"
UID, GID = 1234, 2345
# As the spawner passes them: the primary group first, then the supplementary groups.
GROUPS = [("first.last", GID), ("plasma-team", 3456), ("domain users", 4567)]
FOLDER = "env"
BUNDLE_ID = "sha256:test-bundle"
# What every awkward bundle holds (tests/images/env/awkward-bundle.sh), relative to the folder.
AWKWARD_FILES = ["README.md", "my notes.txt", "data/table.csv", ".private-token"]


def start(
    image: str, home: Path, command: str, user: str = "first.last", groups=GROUPS, prelude: str = "", extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Start a container as the hub does and run `command` (sh) in it as the entrypoint's command.
    `prelude` runs as root before the entrypoint, to shape the image's account files."""
    environment = {
        "NB_USER": user,
        "NB_UID": str(UID),
        "NB_GID": str(GID),
        "HOME": f"/home/{user}",
        "PLASMA_ENVIRONMENT_FOLDER": FOLDER,
        "PLASMA_BUNDLE_ID": BUNDLE_ID,
        "PLASMA_GROUPS": "\n".join(f"{name}:{gid}" for name, gid in groups),
        **(extra_env or {}),
    }
    # The container's privileges as PlasmaSpawner sets them.
    arguments = ["docker", "run", "--rm", "--init", "--user", "0", "--entrypoint", "/bin/sh", "--security-opt", "no-new-privileges", "--cap-drop", "ALL"]
    arguments += [f"--cap-add={capability}" for capability in ENTRYPOINT_CAPABILITIES]
    arguments += ["-v", f"{ENTRYPOINT}:/opt/plasma/entrypoint.sh:ro", "-v", f"{home}:/home/{user}"]
    for name, value in environment.items():
        arguments += ["-e", f"{name}={value}"]
    script = f'{prelude}\nexec sh /opt/plasma/entrypoint.sh "$@"'
    return subprocess.run([*arguments, image, "-c", script, "entrypoint", "sh", "-c", command], capture_output=True, text=True)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty host home owned by the user, private like the users role makes it."""
    home = tmp_path / "first.last"
    home.mkdir(mode=0o700)
    os.chown(home, UID, GID)
    return home


@pytest.fixture(params=["plasma-env-stacks:test", "plasma-env-repo2docker:test"])
def image(request) -> str:
    return request.param


def test_the_image_is_as_private_as_the_family_it_imitates(image):
    """The fixture's point: a user other than jovyan cannot read the bundle by permissions."""
    listing = subprocess.run(["docker", "run", "--rm", "--user", f"{UID}:{GID}", "--entrypoint", "ls", image, "/home/jovyan"], capture_output=True, text=True)
    assert listing.returncode != 0 and "Permission denied" in listing.stderr


def test_every_bundled_file_is_copied_owned_by_the_user(image, home):
    result = start(image, home, "true")
    assert result.returncode == 0, result.stderr
    folder = home / FOLDER
    for name in AWKWARD_FILES:
        assert (folder / name).is_file(), name
    assert (folder / "empty" / "nested folder").is_dir()
    assert (folder / ".private-token").read_text() == "secret-for-jovyan-only\n"
    assert (folder / ".private-token").stat().st_mode & 0o777 == 0o600
    for path in [folder, *folder.rglob("*")]:
        info = path.lstat()
        assert (info.st_uid, info.st_gid) == (UID, GID), path


def test_symlinks_stay_symlinks(image, home):
    assert start(image, home, "true").returncode == 0
    assert os.readlink(home / FOLDER / "latest.csv") == "data/table.csv"
    assert os.readlink(home / FOLDER / "data-link") == "data"


def test_a_file_of_the_users_keeps_its_content(image, home):
    folder = home / FOLDER
    folder.mkdir()
    (folder / "README.md").write_text("my own notes\n")
    (folder / "data").mkdir()
    (folder / "data" / "table.csv").write_text("mine\n")
    for path in (folder, folder / "README.md", folder / "data", folder / "data" / "table.csv"):
        os.chown(path, UID, GID)
    os.chmod(folder / "data", 0o700)
    result = start(image, home, "true")
    assert result.returncode == 0, result.stderr
    assert (folder / "README.md").read_text() == "my own notes\n"
    assert (folder / "data" / "table.csv").read_text() == "mine\n"
    assert (folder / "data").stat().st_mode & 0o7777 == 0o700  # the user's folder keeps its mode
    assert (folder / "my notes.txt").is_file()  # and what the user did not have is still copied


def test_a_later_start_of_the_same_image_copies_nothing(image, home):
    assert start(image, home, "true").returncode == 0
    (home / FOLDER / "README.md").unlink()
    result = start(image, home, "true")
    assert result.returncode == 0
    assert "already in" in result.stderr
    assert not (home / FOLDER / "README.md").exists()  # a deleted bundled file stays deleted


def test_id_inside_is_id_on_the_host(image, home):
    result = start(image, home, "id -u; id -g; id -G; id -un; id -gn; id -Gn")
    assert result.returncode == 0, result.stderr
    uid, gid, gids, user, group, names = result.stdout.splitlines()
    assert (int(uid), int(gid), user, group) == (UID, GID, "first.last", "first.last")
    assert sorted(map(int, gids.split())) == sorted(gid for _, gid in GROUPS)
    assert names == "first.last plasma-team domain users"


def test_the_server_runs_in_the_folder_as_the_user_with_no_privilege_left(image, home):
    result = start(image, home, "pwd; grep -E '^(Uid|Gid|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/self/status")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"/home/first.last/{FOLDER}"
    status = {line.split(":")[0]: line.split()[1:] for line in lines[1:]}
    assert status["Uid"] == [str(UID)] * 4 and status["Gid"] == [str(GID)] * 4
    for capabilities in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert status[capabilities] == ["0000000000000000"], capabilities
    assert status["NoNewPrivs"] == ["1"]


@pytest.mark.parametrize(
    ("attempt", "refusal"),
    [
        ("sudo -n id -u", "sudo: "),  # a sudo rule for everyone
        ("setuid-id -u", str(UID)),  # a setuid-root program runs as the user
        ("setuid-capable-python -c 'import os; os.setuid(0)'", "Operation not permitted"),  # a file capability
    ],
)
def test_the_ways_to_root_an_image_may_hold_do_not_work(home, attempt, refusal):
    result = start("plasma-env-stacks:test", home, f"{attempt} 2>&1; echo exit=$?")
    assert result.returncode == 0, result.stderr
    assert refusal in result.stdout, result.stdout
    assert "\n0\n" not in f"\n{result.stdout}", result.stdout


def test_names_are_data_not_patterns(home):
    """j.doe's start leaves j_doe's account (which the pattern j.doe would match) alone."""
    result = start(
        "plasma-env-stacks:test", home, "getent passwd j_doe | cut -d: -f1; id -un", user="j.doe", groups=[("j.doe", GID)], prelude="useradd --uid 4321 j_doe"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["j_doe", "j.doe"]


def test_a_symlinked_environment_folder_is_refused(image, home, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (home / FOLDER).symlink_to(elsewhere)
    result = start(image, home, "true")
    assert result.returncode != 0
    assert "is a symlink: refusing to use it" in result.stderr
    assert not any(elsewhere.iterdir())


def test_groups_that_are_not_name_gid_lines_are_refused(home):
    result = start("plasma-env-stacks:test", home, "true", groups=[("first.last", GID), ("wheel", 0)])
    assert result.returncode != 0
    assert "PLASMA_GROUPS: 'wheel:0' is not a name:gid line with a non-root gid" in result.stderr
    assert not (home / FOLDER).exists()


def test_the_root_phase_never_runs_a_program_of_the_user_s(image, home):
    """An image whose PATH starts in the home (repo2docker's ~/.local/bin): the user's own awk, tar, setpriv,
    mkdir and ls there never run as root; the server's command still gets the image's PATH."""
    bin_folder = home / ".local" / "bin"
    bin_folder.mkdir(parents=True)
    for tool in ("awk", "tar", "setpriv", "mkdir", "ls", "cat"):
        trap = bin_folder / tool
        trap.write_text("#!/bin/sh\nid -u >> /home/first.last/ran-as\nexit 1\n")
        trap.chmod(0o755)
    for path in (home / ".local", bin_folder, *bin_folder.iterdir()):
        os.chown(path, UID, GID)
    path = "/home/first.last/.local/bin:/usr/local/bin:/usr/bin:/bin"
    result = start(image, home, 'printf "%s\\n" "$PATH"', extra_env={"PATH": path})
    assert result.returncode == 0, result.stderr
    assert not (home / "ran-as").exists(), (home / "ran-as").read_text()
    assert result.stdout.splitlines()[-1] == path
    assert (home / FOLDER / "README.md").is_file()

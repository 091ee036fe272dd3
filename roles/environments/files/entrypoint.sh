#!/bin/sh
# plasma.platform: the entrypoint of every user container (mounted read-only from the host).
#
# Starts as root (with only the capabilities the spawner grants for this), for two things only:
# give the host user and their groups their names inside the container, and read the image's
# bundled files whatever their permissions. Everything that writes into the user's files, and
# the notebook server itself, runs as the user's uid, gid and groups (the same as `id` shows on
# the host), without any capability and unable to gain privileges:
#   1. $HOME/$PLASMA_ENVIRONMENT_FOLDER is created (refused if it, or $HOME, is a symlink);
#   2. what the image ships in /home/jovyan is copied there, never overwriting a file the
#      user has, once per image (PLASMA_BUNDLE_ID, the image's id, is kept in the folder):
#      root reads the bundle into a tar stream, the user writes it out; a later start of the
#      same image copies nothing and never walks the user's files;
#   3. the command (jupyterhub-singleuser) runs in that folder.
# Names (user and groups) are data, never patterns. POSIX sh, coreutils, util-linux, tar and
# awk only: works on Debian and Ubuntu images, Docker Stacks and repo2docker alike.
set -eu

# The root phase finds its tools in the image's system folders only: never in a folder of the user's
# (repo2docker images put ~/.local/bin first on PATH). The command and the user's processes get the
# image's PATH back.
USER_PATH="${PATH:-/usr/local/bin:/usr/bin:/bin}"
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
BUNDLE=/home/jovyan
NL='
'

log() { printf 'plasma-entrypoint: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

: "${NB_USER:?NB_USER is not set: start this container with SystemUserSpawner}"
: "${NB_UID:?NB_UID is not set: start this container with SystemUserSpawner}"
: "${NB_GID:?NB_GID is not set: start this container with SystemUserSpawner}"
: "${HOME:?HOME is not set}"
folder="${PLASMA_ENVIRONMENT_FOLDER:?PLASMA_ENVIRONMENT_FOLDER is not set: the hub configuration sets it}"
# One "name:gid" a line, the primary group first (set by the hub); without it, the primary group only.
groups="${PLASMA_GROUPS:-$NB_USER:$NB_GID}"

case "$NB_UID:$NB_GID" in
  *[!0-9:]* | 0:* | *:0) die "NB_UID/NB_GID must be a non-root numeric id, got $NB_UID:$NB_GID" ;;
esac
case "$NB_USER" in
  "" | -* | *[:/]* | *"$NL"*) die "NB_USER '$NB_USER' is not an account name" ;;
esac
case "$folder" in
  "" | . | .. | */* | -*) die "environment folder name '$folder' is not a plain folder name" ;;
esac
[ "$#" -gt 0 ] || die "no command given (expected jupyterhub-singleuser)"
(PATH="$USER_PATH" && command -v "$1" >/dev/null 2>&1) \
  || die "'$1' is not installed in this image: it cannot run a notebook server for JupyterHub"
for tool in setpriv tar awk; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing in this image's /usr/bin and /bin: it is needed to start as the user"
done

# Each line must be name:gid. From them: the numeric gids for setgroups(2), and the groups'
# /etc/group lines. (Shell builtins only, like most of this script: every process started here
# delays each start.)
gids="" group_lines=""
while IFS= read -r line; do
  name="${line%:*}" gid="${line##*:}"
  case "$line" in *:*) ;; *) name="" ;; esac
  case "$gid" in "" | *[!0-9]* | 0) name="" ;; esac
  [ -n "$name" ] || die "PLASMA_GROUPS: '$line' is not a name:gid line with a non-root gid"
  gids="${gids:+$gids,}$gid"
  group_lines="${group_lines:+$group_lines$NL}$name:x:$gid:$NB_USER"
done <<EOF
$groups
EOF

# The user's ids and groups, no capability left to regain (empty bounding and inheritable sets,
# ambient ones cleared by the uid change) and no new privileges through setuid files or file
# capabilities. Only digits and commas: safe to expand unquoted.
user_privileges="--reuid=$NB_UID --regid=$NB_GID --groups=$gids --bounding-set=-all --inh-caps=-all --no-new-privs"
# shellcheck disable=SC2086
as_user() { setpriv $user_privileges -- "$@"; }

# Put the user's line first in /etc/passwd and their groups' lines first in /etc/group, and drop
# any other line with one of those names (compared as strings), so that the user's uid and gids
# resolve to the host's names before any image account with the same id, such as jovyan.
PLASMA_PASSWD="$NB_USER:x:$NB_UID:$NB_GID::$HOME:/bin/sh" PLASMA_GROUP_LINES="$group_lines" awk '
  function rewrite(path, ours, count,    i, field, taken, kept, kept_count, line) {
    for (i = 1; i <= count; i++) { split(ours[i], field, ":"); taken[field[1]] = 1 }
    while ((getline line < path) > 0) { split(line, field, ":"); if (!(field[1] in taken)) kept[++kept_count] = line }
    close(path)
    for (i = 1; i <= count; i++) print ours[i] > path
    for (i = 1; i <= kept_count; i++) print kept[i] > path
    close(path)
  }
  BEGIN {
    passwd_count = split(ENVIRON["PLASMA_PASSWD"], passwd, "\n")
    group_count = split(ENVIRON["PLASMA_GROUP_LINES"], group, "\n")
    rewrite("/etc/passwd", passwd, passwd_count)
    rewrite("/etc/group", group, group_count)
  }' || log "warning: could not name $NB_USER and their groups in /etc/passwd and /etc/group (read-only image?)"

[ -L "$HOME" ] && die "$HOME is a symlink: refusing to use it"
[ -d "$HOME" ] || die "$HOME does not exist: the user's home is missing on the host"
target="$HOME/$folder"
[ -L "$target" ] && die "$target is a symlink: refusing to use it as the environment folder"
[ -d "$target" ] || as_user mkdir "$target" || die "cannot create $target as $NB_USER"

# Root reads the image's bundled files (real images keep /home/jovyan private to jovyan and
# its group); the user writes them, so they end up owned by the user and nothing is ever
# written by root into a folder the user controls. Existing files and folders of the user's
# are kept as they are.
stamp="$target/.plasma-bundle-id"
bundle_id="${PLASMA_BUNDLE_ID:-}"
if [ -n "$bundle_id" ] && [ "$(as_user cat "$stamp" 2>/dev/null || true)" = "$bundle_id" ]; then
  log "the bundled files of this image are already in $target"
elif [ -d "$BUNDLE" ] && [ "$(ls -A "$BUNDLE")" ]; then
  if tar -C "$BUNDLE" -cf - . \
    | as_user tar -C "$target" -xf - --skip-old-files --preserve-permissions; then
    # shellcheck disable=SC2016  # $1 and $2 are the inner shell's
    [ -z "$bundle_id" ] || as_user sh -c 'printf "%s\n" "$1" > "$2"' sh "$bundle_id" "$stamp" \
      || log "warning: could not record the copy in $stamp"
  else
    log "warning: some bundled files could not be copied (the server starts anyway; the next start tries again)"
  fi
fi

cd "$target"
log "starting $1 as $NB_USER ($NB_UID:$NB_GID, groups $gids) in $target"
setpriv="$(command -v setpriv)"
PATH="$USER_PATH"
# shellcheck disable=SC2086
exec "$setpriv" $user_privileges -- "$@"

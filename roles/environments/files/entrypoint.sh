#!/bin/sh
# plasma.platform: the entrypoint of every user container (mounted read-only from the host).
#
# Starts as root for one purpose: give the host user a name inside the container. Everything
# that touches the user's files, and the notebook server itself, runs as the user's uid/gid:
#   1. $HOME/$PLASMA_ENVIRONMENT_FOLDER is created (refused if it, or $HOME, is a symlink);
#   2. what the image ships in /home/jovyan is copied there, never overwriting a file the
#      user has, once per image (PLASMA_BUNDLE_ID, the image's id, is kept in the folder):
#      a later start of the same image copies nothing and never walks the user's files;
#   3. the command (jupyterhub-singleuser) runs in that folder.
# POSIX sh and coreutils/util-linux only: works on Debian and Ubuntu images with or without bash.
set -eu

BUNDLE=/home/jovyan

log() { printf 'plasma-entrypoint: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

: "${NB_USER:?NB_USER is not set: start this container with SystemUserSpawner}"
: "${NB_UID:?NB_UID is not set: start this container with SystemUserSpawner}"
: "${NB_GID:?NB_GID is not set: start this container with SystemUserSpawner}"
: "${HOME:?HOME is not set}"
folder="${PLASMA_ENVIRONMENT_FOLDER:?PLASMA_ENVIRONMENT_FOLDER is not set: the hub configuration sets it}"

case "$NB_UID:$NB_GID" in
  *[!0-9:]* | 0:* | *:0) die "NB_UID/NB_GID must be a non-root numeric id, got $NB_UID:$NB_GID" ;;
esac
case "$folder" in
  "" | . | .. | */* | -*) die "environment folder name '$folder' is not a plain folder name" ;;
esac
[ "$#" -gt 0 ] || die "no command given (expected jupyterhub-singleuser)"
command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed in this image: it cannot run a notebook server for JupyterHub"
command -v setpriv >/dev/null 2>&1 || die "setpriv (util-linux) is missing in this image: cannot drop root privileges"

as_user() { setpriv --reuid="$NB_UID" --regid="$NB_GID" --clear-groups -- "$@"; }

# Let the user's uid resolve to the user's name (ps, whoami, prompts), before any image
# account with the same uid, such as jovyan.
name_ids() {
  file="$1" entry="$2"
  if ! grep -q "^$entry\$" "$file" 2>/dev/null; then
    { printf '%s\n' "$entry"; grep -v "^$NB_USER:" "$file" || true; } > "$file.plasma" \
      && cat "$file.plasma" > "$file" && rm -f "$file.plasma" \
      || log "warning: could not add $NB_USER to $file (read-only image?)"
  fi
}
name_ids /etc/passwd "$NB_USER:x:$NB_UID:$NB_GID::$HOME:/bin/sh"
name_ids /etc/group "$NB_USER:x:$NB_GID:"

[ -L "$HOME" ] && die "$HOME is a symlink: refusing to use it"
[ -d "$HOME" ] || die "$HOME does not exist: the user's home is missing on the host"
target="$HOME/$folder"
[ -L "$target" ] && die "$target is a symlink: refusing to use it as the environment folder"
as_user mkdir -p "$target" || die "cannot create $target as $NB_USER"
[ -d "$target" ] || die "$target exists and is not a folder"

# Copy the image's bundled files as the user: they end up owned by the user, and nothing is
# ever written by root into a folder the user controls.
stamp="$target/.plasma-bundle-id"
bundle_id="${PLASMA_BUNDLE_ID:-}"
if [ -n "$bundle_id" ] && [ "$(as_user cat "$stamp" 2>/dev/null || true)" = "$bundle_id" ]; then
  log "the bundled files of this image are already in $target"
elif [ -d "$BUNDLE" ] && [ "$(ls -A "$BUNDLE")" ]; then
  # coreutils 9.3 and later: --update=none skips existing files and exits 0 (there, -n may
  # report skipped files as errors); older coreutils: -n does the same.
  if cp --help 2>/dev/null | grep -q -- '--update\[=UPDATE\]'; then keep=--update=none; else keep=-n; fi
  if errors="$(as_user cp -R -P --preserve=mode,timestamps "$keep" "$BUNDLE/." "$target/" 2>&1)"; then
    [ -z "$bundle_id" ] || as_user sh -c 'printf "%s\n" "$1" > "$2"' sh "$bundle_id" "$stamp" \
      || log "warning: could not record the copy in $stamp"
  else
    log "warning: some bundled files could not be copied (the server starts anyway): $errors"
  fi
fi

cd "$target"
log "starting $1 as $NB_USER ($NB_UID:$NB_GID) in $target"
exec setpriv --reuid="$NB_UID" --regid="$NB_GID" --clear-groups -- "$@"

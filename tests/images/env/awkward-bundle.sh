#!/bin/sh
# The bundle cases that break naive copies, added to a bundle folder ($1) at image build time
# (git keeps neither empty folders nor modes): a name with spaces, an empty nested folder, a
# symlink to a file and one to a folder, a dotfile only its owner may read (its mode is set by
# the Dockerfile, after any fix-permissions).
set -eu
cd "$1"
printf 'notes with spaces\n' > "my notes.txt"
mkdir -p "empty/nested folder"
mkdir -p data && printf 'x,y\n1,2\n' > data/table.csv
ln -s data/table.csv latest.csv
ln -s data data-link
printf 'secret-for-jovyan-only\n' > .private-token

#!/bin/sh
set -eu
for f in *.sh; do sh -n "$f"; done

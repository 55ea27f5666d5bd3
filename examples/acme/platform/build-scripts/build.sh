#!/bin/sh
# build.sh APP: the shared build entry point.
set -eu
echo "building $1"

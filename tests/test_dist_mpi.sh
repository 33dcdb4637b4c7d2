#!/usr/bin/env bash
# The collectives across 2 real MPI ranks on this machine (mpirun -np 2, oversubscribed, as
# root in CI). Needs a build with MPI: scripts/install-deps.sh installs Open MPI.
# ctest: slow
set -euo pipefail
BIN=$(dirname "$CTCIR")/tests/test_dist
"$CTCIR" --version >/dev/null
command -v mpirun >/dev/null || { echo "FAIL: mpirun not found (scripts/install-deps.sh installs openmpi-bin)"; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
out=$(mpirun -np 2 --oversubscribe "$BIN" 2>&1) || { echo "$out"; echo "FAIL: mpirun -np 2 test_dist"; exit 1; }
echo "$out"
[ "$(echo "$out" | grep -c 'of 2: ok')" = 2 ] || { echo "FAIL: both ranks must report ok"; exit 1; }
echo "1 passed, 0 failed"

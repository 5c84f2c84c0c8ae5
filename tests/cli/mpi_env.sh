# Sourced by the tests under mpirun (needs HAVE_MPI, the build's DK_HAVE_MPI,
# and MPIEXEC): exits 77 (skip, with the reason) without MPI built in, without
# the launcher, or where it cannot start two processes; else sets Open MPI up
# for this machine and MPIRUN, the launcher to use.
case $HAVE_MPI in ON | 1 | TRUE) ;; *)
    echo "SKIP: deltakern was built without MPI (libopenmpi-dev not found at configure time)"; exit 77 ;; esac
[ -x "$MPIEXEC" ] || { echo "SKIP: no MPI launcher at '$MPIEXEC' (Debian: openmpi-bin)"; exit 77; }
# Open MPI refuses root unless told twice; on 2 cores 3 ranks oversubscribe.
# --bind-to none: a rank bound to one core runs threads=0 variants on one
# thread, whose sums round otherwise than a single run's (docs/diff.md).
# Shared-memory copies without ptrace rights (containers): plain copies.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
# Under ASan: Open MPI keeps its allocations until exit, in plugins it has
# unloaded by then (no frame LeakSanitizer could suppress by name), so leaks
# go unchecked in the ranks; every other memory error is still caught.
MPIRUN=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "$MPIEXEC" --oversubscribe --bind-to none)
if ! mpi_probe=$("${MPIRUN[@]}" -np 2 true 2>&1); then
    echo "SKIP: $MPIEXEC cannot start 2 processes here: $(printf '%s\n' "$mpi_probe" | grep -v '^-*$' | head -n 3 | tr '\n' ' ')"
    exit 77
fi

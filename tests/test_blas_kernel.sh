#!/usr/bin/env bash
# The BLAS kernel choice end to end on this CPU: ctcir restarts itself once with a better
# OpenBLAS kernel when OpenBLAS picked a fallback (made here with OPENBLAS_CORETYPE=Prescott
# plus the test switch CTCIR_TEST_BLAS_FALLBACK=1), respects a kernel the user set, and the
# numeric tests (products, kernels, gradients, CLIP parity) pass under every kernel ctcir can
# end up with here: OpenBLAS's own choice and the one ctcir restarts with.
set -u
CTCIR=${CTCIR:-build/ctcir}
TESTS=$(dirname "$CTCIR")/tests
SHARED=${CTCIR_SHARED:-../shared}
pass=0 fail=0
check() { if "$@"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAILED: $*" >&2; fi; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unset CTCIR_BLAS_FALLBACK CTCIR_TEST_BLAS_FALLBACK

kernel_of() { sed -n 's/^blas: .*, kernel \([A-Za-z0-9_]*\) .*/\1/p' <<<"$1"; }

own=$(env -u OPENBLAS_CORETYPE "$CTCIR" --version)
own_kernel=$(kernel_of "$own")
check test -n "$own_kernel"
check grep -q '^cpu: ' <<<"$own"
check grep -q "kernel $own_kernel (chosen by OpenBLAS" <<<"$own"

# The user's choice is respected, even a slow one: no restart
user=$(OPENBLAS_CORETYPE=Prescott "$CTCIR" --version)
check grep -q 'kernel Prescott (OPENBLAS_CORETYPE=Prescott' <<<"$user"

# A fallback: one restart (a loop would hang; timeout catches it) with the preferred kernel
restarted=$(OPENBLAS_CORETYPE=Prescott CTCIR_TEST_BLAS_FALLBACK=1 timeout 20 "$CTCIR" --version)
check test $? -eq 0
new_kernel=$(kernel_of "$restarted")
kernels="$own_kernel"
if grep -Eq ' (avx2 .*fma|fma .*avx2)' <<<"$own"; then
  # an AVX2 CPU always has a better kernel than Prescott
  check grep -q "OpenBLAS chose Prescott on this CPU; ctcir restarted with OPENBLAS_CORETYPE=$new_kernel" <<<"$restarted"
  check test "$new_kernel" != Prescott
  [ "$new_kernel" != "$own_kernel" ] && kernels="$kernels $new_kernel"
  if grep -q avx512_bf16 <<<"$own" && grep -q avx512vl <<<"$own"; then check test "$new_kernel" = Cooperlake; fi
else
  check test "$new_kernel" = Prescott
fi

# Arguments and stdin survive the restart: same output as without it
echo '"a red cube left of a blue sphere"' > "$tmp/t.jsonl"
check test -s "$tmp/t.jsonl"
env -u OPENBLAS_CORETYPE "$CTCIR" tokenize --model "$SHARED/parity/models/tiny-vit-b" < "$tmp/t.jsonl" > "$tmp/a" 2>&1
OPENBLAS_CORETYPE=Prescott CTCIR_TEST_BLAS_FALLBACK=1 "$CTCIR" tokenize --model "$SHARED/parity/models/tiny-vit-b" \
  < "$tmp/t.jsonl" > "$tmp/b" 2>&1
check test -s "$tmp/a"
check cmp -s "$tmp/a" "$tmp/b"

# The numeric tests under each kernel ctcir may run here
for k in $kernels; do
  got=$(kernel_of "$(OPENBLAS_CORETYPE=$k "$CTCIR" --version)")
  check test "$got" = "$k"
  for t in test_gemm test_nn_fast test_nn_gradcheck test_cir_head_gradcheck test_cir_losses test_clip_parity; do
    if OPENBLAS_CORETYPE=$k "$TESTS/$t" > "$tmp/out" 2>&1; then pass=$((pass+1))
    else fail=$((fail+1)); echo "FAILED: $t under OPENBLAS_CORETYPE=$k" >&2; tail -5 "$tmp/out" >&2; fi
  done
done
echo "kernels checked: $kernels"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

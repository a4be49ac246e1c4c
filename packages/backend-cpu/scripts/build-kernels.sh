#!/bin/bash
# Compiles the elementwise kernel generator (emitter, vmath, elementwise-kernel) as it is at a git
# revision into a folder of its own, for bench-vmath.mjs to compare against another revision:
#
#   scripts/build-kernels.sh HEAD~3 /tmp/k-before
#   scripts/build-kernels.sh WORKTREE /tmp/k-after      # the working tree as it is
#   node scripts/bench-vmath.mjs /tmp/k-before /tmp/k-after
set -euo pipefail
rev=$1
out=$2
here=$(cd "$(dirname "$0")/.." && pwd)
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
for f in emitter vmath elementwise-kernel; do
  if [ "$rev" = WORKTREE ]; then cp "$here/src/wasm/$f.ts" "$src/"; else git -C "$here" show "$rev:./src/wasm/$f.ts" > "$src/$f.ts"; fi
done
rm -rf "$out"
mkdir -p "$out"
# --noCheck: the files import only types from @nabla/core, which need not be built for this.
"$here/../../node_modules/.bin/tsc" --outDir "$out" --module es2022 --moduleResolution bundler --target es2022 --skipLibCheck --noCheck "$src"/*.ts
echo '{"type":"module"}' > "$out/package.json"
echo "$rev -> $out"

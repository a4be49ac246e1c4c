#!/usr/bin/env bash
# CI: the 16-bit WebGPU suites again on an adapter with `shader-f16` (Mesa 25's lavapipe, see
# lavapipe.sh), where float16 must compute in WGSL's native f16: NABLA_REQUIRE_F16=1 makes the
# runtimes ask for `float16: 'native'` and fails instead of skipping or falling back to the packed
# path. The main test run keeps SwiftShader (no shader-f16), so both paths are tested.
set -euo pipefail
cd "$(dirname "$0")/../../.."
ICD=$(bash packages/backend-webgpu/scripts/lavapipe.sh)
# Mesa's WSI looks for a runtime directory even with no window; give it an empty one (no log noise).
runtime_dir=$(mktemp -d)
trap 'rm -rf "$runtime_dir"' EXIT
export VK_ICD_FILENAMES=$ICD NABLA_WEBGPU_ADAPTER=default NABLA_REQUIRE_F16=1 XDG_RUNTIME_DIR=$runtime_dir
# (No which-adapter.mjs here: it imports the built package, and .ci/run builds later. The suites
# print the adapter that ran.)
# lavapipe compiles each pipeline with LLVM: slow on a loaded machine, hence the longer timeout.
(cd packages/backend-webgpu && npx vitest run --testTimeout=300000 test/half-native.test.ts test/half.test.ts test/half-sweep.test.ts)
(cd packages/nn && npx vitest run --testTimeout=300000 test/amp-webgpu-f16.test.ts test/amp-webgpu.test.ts)

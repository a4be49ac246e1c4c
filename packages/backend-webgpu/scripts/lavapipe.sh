#!/usr/bin/env bash
# A WebGPU adapter with `shader-f16` on a machine without a GPU: Mesa's lavapipe (software Vulkan)
# from Debian bookworm-backports, unpacked into a cache directory beside the system Mesa (which
# headless-gl's llvmpipe keeps using), with a Vulkan ICD file that names it by absolute path.
#
#   ICD=$(bash packages/backend-webgpu/scripts/lavapipe.sh)   # prints the ICD json's path
#   VK_ICD_FILENAMES=$ICD NABLA_REQUIRE_F16=1 npx vitest run test/half.test.ts
#
# Why backports: bookworm's lavapipe (Mesa 22.3) lacks the shaderUniform*ArrayDynamicIndexing
# features Dawn requires, and SwiftShader (Chromium's ICD) has no shader-f16. Mesa 25's lavapipe
# links only libraries bookworm already has (libLLVM-15, libdrm, libxcb...), so one .deb suffices.
# Nothing is installed: `apt-get download` with a private source list and state directory, then
# `dpkg -x`. Idempotent: a second run finds the cache and only prints the path.
set -euo pipefail
VERSION=${NABLA_LAVAPIPE_VERSION:-25.0.7-2~bpo12+1}
SUITE=${NABLA_LAVAPIPE_SUITE:-bookworm-backports}
MIRROR=${NABLA_LAVAPIPE_MIRROR:-http://deb.debian.org/debian}
CACHE=${NABLA_LAVAPIPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nabla/lavapipe-${VERSION//[^A-Za-z0-9.+-]/_}}
ICD="$CACHE/lvp_icd.json"
LIB="$CACHE/root/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so"

if [ ! -f "$ICD" ] || [ ! -f "$LIB" ]; then
  [ "$(dpkg --print-architecture)" = amd64 ] || { echo "lavapipe.sh: only amd64 is scripted (got $(dpkg --print-architecture))" >&2; exit 1; }
  rm -rf "$CACHE.tmp"
  mkdir -p "$CACHE.tmp/apt/lists/partial" "$CACHE.tmp/apt/cache/archives/partial" "$CACHE.tmp/deb"
  echo "deb $MIRROR $SUITE main" >"$CACHE.tmp/apt/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$CACHE.tmp/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$CACHE.tmp/apt/lists" -o "Dir::Cache=$CACHE.tmp/apt/cache" -o Debug::NoLocking=1
    -o APT::Sandbox::User=root -qq)
  apt-get "${apt_opts[@]}" update >&2
  (cd "$CACHE.tmp/deb" && apt-get "${apt_opts[@]}" download "mesa-vulkan-drivers=$VERSION" >&2)
  dpkg -x "$CACHE.tmp/deb"/mesa-vulkan-drivers_*.deb "$CACHE.tmp/root"
  # Only lavapipe is used: drop the hardware drivers the package also ships (about 50 MB).
  find "$CACHE.tmp/root" -name '*.so' ! -name libvulkan_lvp.so -delete
  missing=$(ldd "$CACHE.tmp/root/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so" | grep 'not found' || true)
  if [ -n "$missing" ]; then echo "lavapipe.sh: libvulkan_lvp.so needs libraries this system lacks:" >&2; echo "$missing" >&2; exit 1; fi
  lib_final="$CACHE/root/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so"
  api=$(sed -n 's/.*"api_version": *"\([^"]*\)".*/\1/p' "$CACHE.tmp/root/usr/share/vulkan/icd.d/lvp_icd.json")
  printf '{\n  "file_format_version": "1.0.0",\n  "ICD": { "library_path": "%s", "api_version": "%s" }\n}\n' "$lib_final" "${api:-1.3.0}" >"$CACHE.tmp/lvp_icd.json"
  rm -rf "$CACHE.tmp/apt" "$CACHE.tmp/deb" "$CACHE"
  mv "$CACHE.tmp" "$CACHE"
fi
echo "$ICD"

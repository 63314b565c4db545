#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what a fresh Debian machine lacks to build crmine: compilers' libraries from Debian,
# build tools from PyPI. Idempotent: already-present packages are skipped quickly.
set -euo pipefail
APT_PACKAGES=(build-essential cmake ninja-build libeigen3-dev libboost-graph-dev libgtest-dev libgmock-dev
              libbenchmark-dev xz-utils ccache)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# pip's own exit status survives the filter that hides its warning about running as root.
pip_quiet() { python3 -m pip "$@" -q --disable-pip-version-check 2>&1 | { grep -v "Running pip as the 'root' user" || true; }; }
pip_quiet install "scikit-build-core>=0.10" "pybind11>=2.12" numpy pandas
# The C++ build and the Python extension compile the same library: ccache makes the second one
# (and any rebuild) nearly free.
export CMAKE_CXX_COMPILER_LAUNCHER=ccache

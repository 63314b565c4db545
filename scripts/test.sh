#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sets up and runs the whole test suite: C++ (GoogleTest via ctest), the C++ example built against
# the installed package, and Python (pytest) against the installed wheel.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
JOBS=$(nproc)
source scripts/setup.sh
pip_quiet install polars pyarrow "dask[dataframe,distributed]" scikit-learn pytest scipy mlxtend kmodes lightgbm pyod scikit-uplift "relativeImp==0.0.2" lifetimes

echo "== C++: build and GoogleTest"
cmake -S . -B build/cpp -G Ninja -DCMAKE_BUILD_TYPE=Release -DCRMINE_BUILD_TESTS=ON -DCRMINE_BUILD_BENCH=ON \
  -DCMAKE_INSTALL_PREFIX="$ROOT/build/install" >/dev/null
cmake --build build/cpp -j "$JOBS"
ctest --test-dir build/cpp --output-on-failure -j "$JOBS"

echo "== C++: install, then build and run the example consumer against the installed package"
cmake --install build/cpp >/dev/null
cmake -S examples/cpp -B build/example -G Ninja -DCMAKE_PREFIX_PATH="$ROOT/build/install" >/dev/null
cmake --build build/example
./build/example/rfm_example
./build/example/classify_example

echo "== Python: install the package and run pytest"
pip_quiet install --no-build-isolation .
python3 -m pytest tests/python -q -p no:cacheprovider

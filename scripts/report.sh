#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sets up, installs the crmine Python package and runs the main job on the bundled sample.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
python3 -m pip install -q --disable-pip-version-check --no-build-isolation . 2>&1 | grep -v "Running pip as the 'root' user" || true
crmine report --sample --output crmine-report.html "$@"

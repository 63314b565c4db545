#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sets up, installs the crmine Python package and runs the main job on the bundled sample.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
pip_quiet install --no-build-isolation .
crmine report --sample --output crmine-report.html "$@"

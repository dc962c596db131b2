#!/usr/bin/env bash
# Benchmarks, on demand (not part of the tests): bench/census.py [options].
set -euo pipefail
# shellcheck source=scripts/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$ROOT"
exec python bench/census.py "$@"

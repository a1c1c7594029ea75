#!/usr/bin/env bash
# On the lent GPU machine: the calls bench/gpu/pack.py prints run this (stage N, then train); see device_run.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec "${PYTHON:-python3}" bench/gpu/device_run.py "$@"

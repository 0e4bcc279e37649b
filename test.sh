#!/usr/bin/env bash
# Every test, with what they need installed when missing: the Rust suite (Debian's Chromium for
# the HTML report's browser test), the Parquet feature's tests, and the Python package's (built
# into python/.venv, Spark's in local mode included).
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v chromium >/dev/null; then
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
cargo test
cargo test --features parquet --test parquet
cargo test --features parquet --lib io::arrow
python/test.sh

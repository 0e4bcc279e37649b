#!/bin/sh
# Builds the Python package into python/.venv (created when absent) and runs its tests:
#   python/test.sh            every test, Spark's included (pyspark and Java 17 needed)
#   python/test.sh -k 'not spark'
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check maturin pyarrow pandas polars pytest "pyspark>=4.0"
# A debug build unless WABILL_RELEASE is set: quick to build, enough for the tests.
.venv/bin/maturin develop --quiet ${WABILL_RELEASE:+--release} --manifest-path Cargo.toml
.venv/bin/python -m pytest -q "$@"

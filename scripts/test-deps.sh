#!/usr/bin/env bash
# Everything the test suite needs, on top of `pip install torch==2.13.0` (the README's first command):
# emobench with its optional backends, s3prl's WavLM entry, and Debian's chromium for the browser tests.
# Where something cannot be installed, it says which tests will be skipped and why.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_PROGRESS_BAR=off

python -m pip install -q -e ".[dev,faiss,funasr,opensmile,ct2,ray]"
# s3prl's own requirements pull the newest torchaudio, which fails to load with torch 2.13; its WavLM hub
# entry needs no torchaudio, so it is installed without dependencies (omegaconf is its one import we need).
python -m pip install -q "omegaconf>=2.1"
python -m pip install -q --no-deps "s3prl>=0.4.17"
python -m pip uninstall -y -q torchaudio 2>/dev/null || true

# Headless Chromium for the leaderboard's browser tests (Debian's package; Playwright drives it).
if command -v chromium >/dev/null 2>&1; then
  :
elif command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  dpkg --configure -a || true  # a half-configured package blocks every later install
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
else
  echo "note: chromium is not installed and this is not a root shell with apt-get: the browser tests" >&2
  echo "      (tests/test_leaderboard_browser.py) will be skipped; install Debian's chromium or set" >&2
  echo "      EMOBENCH_CHROMIUM=/path/to/chromium to run them." >&2
fi

# Freqtrade's official FreqAI image at the pinned version, with the strategy pack installed on top.
# The image already holds freqtrade[freqai] 2026.9, TA-Lib, technical, LightGBM and scikit-learn,
# so only the pack itself is added (--no-deps). Installing it also installs the pack's .pth start-up
# hook, which lets stock freqtrade resolve the pack's pairlists and protections by "method" name.
# The image runs Python 3.13 (freqtrade builds it FROM python:3.13-slim-bookworm); the pack's
# requires-python (>=3.11,<3.14) admits it - tests/test_ops_docker.py checks that.
FROM freqtradeorg/freqtrade:2026.9_freqai

COPY --chown=ftuser:ftuser pyproject.toml hatch_build.py README.md /tmp/pack/
COPY --chown=ftuser:ftuser plugins /tmp/pack/plugins
RUN pip install --user --no-cache-dir --no-deps /tmp/pack && rm -rf /tmp/pack

# Healthy while the API answers its unauthenticated ping (freqtrade's /api/v1/ping). Python's own
# urllib rather than curl, so the check does not depend on what the base image ships.
# FT_HEALTH_PORT follows the API port when the config changes it.
ENV FT_HEALTH_PORT=8080
HEALTHCHECK --interval=60s --timeout=10s --start-period=120s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('FT_HEALTH_PORT', '8080') + '/api/v1/ping', timeout=8); sys.exit(0 if b'pong' in r.read() else 1)"]

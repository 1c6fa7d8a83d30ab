# Freqtrade's official FreqAI image at the pinned version, with the strategy pack installed on top.
# The image already holds freqtrade[freqai] 2026.9, TA-Lib, technical, LightGBM and scikit-learn,
# so only the pack itself is added (--no-deps). Installing it also installs the pack's .pth start-up
# hook, which lets stock freqtrade resolve the pack's pairlists and protections by "method" name.
FROM freqtradeorg/freqtrade:2026.9_freqai

COPY --chown=ftuser:ftuser pyproject.toml hatch_build.py README.md /tmp/pack/
COPY --chown=ftuser:ftuser plugins /tmp/pack/plugins
RUN pip install --user --no-cache-dir --no-deps /tmp/pack && rm -rf /tmp/pack

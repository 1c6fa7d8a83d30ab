"""FreqAI model logic: the ensemble (members, time-ordered validation, weights) behind the
``user_data/freqaimodels`` classes.

May import: scikit-learn, LightGBM and the other model libraries, ``plugins.quant``. Never freqtrade:
the thin FreqAI model classes in ``user_data/freqaimodels`` are the only freqtrade-facing part.
"""

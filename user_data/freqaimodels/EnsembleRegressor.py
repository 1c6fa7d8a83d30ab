"""FreqAI regression model: a weighted ensemble of LightGBM and scikit-learn members.

Members, weighting and validation slice come from ``freqai.model_training_parameters``::

    "model_training_parameters": {
        "members": {"lightgbm": {"n_estimators": 150, "num_leaves": 15},
                    "extra_trees": {"n_estimators": 40, "min_samples_leaf": 40},
                    "hist_gb": {"max_iter": 60}, "linear": {"alpha": 10.0}},
        "weighting": "inverse_error",   # or "stacking" (non-negative least squares)
        "validation": "test_split",     # or "train_tail" (+ validation_fraction, refit)
        "n_jobs": 1, "random_state": 42
    }

Member weights are learned on candles that come after the fit rows in time (FreqAI's unshuffled
test split, or the most recent training rows), purged by ``label_period_candles``; never on
shuffled rows. Per-member validation scores and weights are logged at every training and saved
in the model's metadata JSON (key ``"ensemble"``); the pickled model carries them too
(``model.report``). All logic: ``plugins/freqai/ensemble.py``.

    freqtrade backtesting --config user_data/config.json --config user_data/config.freqai.json \
        --freqaimodel EnsembleRegressor --strategy AiFusion
"""

from typing import Any

from freqtrade.exceptions import OperationalException
from freqtrade.freqai.base_models.BaseRegressionModel import BaseRegressionModel

from plugins.freqai.ensemble import fit_freqai_ensemble
from plugins.freqai.training_window import training_window_problem


class EnsembleRegressor(BaseRegressionModel):
    """Weighted LightGBM + scikit-learn ensemble for one regression target."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        # A window too short for the ensemble fails at start-up in one line, not in every training.
        if problem := training_window_problem(self.freqai_info, self.config["timeframe"]):
            raise OperationalException(problem)

    def fit(self, data_dictionary: dict, dk, **kwargs) -> Any:
        return fit_freqai_ensemble(data_dictionary, self.freqai_info, "regression", dk)

"""FreqAI regression model: a weighted ensemble of LightGBM, XGBoost, scikit-learn and LSTM members.

Members, weighting and validation slice come from ``freqai.model_training_parameters``::

    "model_training_parameters": {
        "members": {"lightgbm": {"n_estimators": 150, "num_leaves": 15},
                    "extra_trees": {"n_estimators": 40, "min_samples_leaf": 40},
                    "hist_gb": {"max_iter": 60}, "linear": {"alpha": 10.0}},
        "weighting": "inverse_error",   # or "stacking" (non-negative least squares)
        "validation": "test_split",     # or "train_tail" (+ validation_fraction, refit)
        "n_jobs": 1, "random_state": 42
    }

Member kinds: ``lightgbm``, ``xgboost``, ``extra_trees``, ``random_forest``, ``hist_gb``,
``linear``, ``lstm`` (needs the ``lstm`` extra, PyTorch; docs/freqai-members.md). Seed 000's set
(Random Forest + XGBoost + LSTM): ``user_data/config.freqai.seed000.json``.

Member weights are learned on candles that come after the fit rows in time (FreqAI's unshuffled
test split, or the most recent training rows), purged by ``label_period_candles``; never on
shuffled rows. Per-member validation scores and weights, the ensemble's and a no-skill
forecast's are logged at every training and saved in the model's metadata JSON (key
``"ensemble"``; ``ftpack-skill`` tabulates them over a backtest); the pickled model carries them
too (``model.report``). All logic: ``plugins/freqai/ensemble.py``.

    freqtrade backtesting --config user_data/config.json --config user_data/config.freqai.json \
        --freqaimodel EnsembleRegressor --strategy AiFusion
"""

import logging
from typing import Any

from freqtrade.enums import RunMode
from freqtrade.exceptions import OperationalException
from freqtrade.freqai.base_models.BaseRegressionModel import BaseRegressionModel

from plugins.freqai.ensemble import fit_freqai_ensemble, live_window_problem, startup_problem


logger = logging.getLogger(__name__)


class EnsembleRegressor(BaseRegressionModel):
    """Weighted ensemble (LightGBM, XGBoost, scikit-learn, LSTM members) for one regression target."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        # Bad settings fail at start-up in one line, not in (and skipped by) every training.
        if problem := startup_problem(self.freqai_info, self.config["timeframe"], "regression"):
            raise OperationalException(problem)
        live = self.config.get("runmode") in (RunMode.LIVE, RunMode.DRY_RUN)
        if live and (warning := live_window_problem(self.freqai_info)):
            logger.warning(warning)

    def fit(self, data_dictionary: dict, dk, **kwargs) -> Any:
        return fit_freqai_ensemble(data_dictionary, self.freqai_info, "regression", dk)

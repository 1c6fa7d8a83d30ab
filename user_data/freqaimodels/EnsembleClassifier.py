"""FreqAI classification model: ``EnsembleRegressor``'s ensemble with classifier members.

Configured exactly like ``EnsembleRegressor``; here ``linear`` is an L2 logistic regression
(``alpha`` = 1 / C), ``xgboost`` takes any class labels (encoded internally), ``lstm`` is not
available (regression only), ``inverse_error`` weights use the members' log loss and
``stacking`` fits their class probabilities. Returns the predicted class plus one probability
column per class (e.g. ``up`` / ``down``), like FreqAI's own classifiers; scores and weights are
logged and kept in the metadata JSON (``"ensemble"``).

    freqtrade backtesting ... --freqaimodel EnsembleClassifier --strategy AiFusion
"""

from freqtrade.exceptions import OperationalException
from freqtrade.freqai.base_models.BaseClassifierModel import BaseClassifierModel

from plugins.freqai.ensemble import WeightedEnsemble, fit_freqai_ensemble, startup_problem


class EnsembleClassifier(BaseClassifierModel):
    """Weighted LightGBM + XGBoost + scikit-learn ensemble for one class target (e.g. up / down)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        # Bad settings fail at start-up in one line, not in (and skipped by) every training.
        if problem := startup_problem(self.freqai_info, self.config["timeframe"],
                                      "classification"):
            raise OperationalException(problem)

    def fit(self, data_dictionary: dict, dk, **kwargs) -> WeightedEnsemble:
        return fit_freqai_ensemble(data_dictionary, self.freqai_info, "classification", dk)

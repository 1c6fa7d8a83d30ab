"""The ensemble's ``lstm`` member: a small PyTorch LSTM over the last ``window`` feature rows.

PyTorch is an optional extra (``pip install -e .[lstm]`` or ``make venv-lstm``): it is imported only
when an ``lstm`` member is built, fitted or used, never when this module is imported, so the
default install keeps working and a missing PyTorch stops with :data:`INSTALL_HINT`.

What the member assumes about its input (FreqAI hands it the feature matrix as rows in time
order, oldest first, one row per candle):
- The prediction for row ``t`` reads rows ``t - window + 1 .. t`` of the *same call's* ``X``;
  rows before the first full window repeat the call's earliest row (never a later one). So a
  row's prediction never depends on rows after it.
- In backtesting FreqAI passes each backtest window's rows, so only its first ``window - 1``
  candles are predicted from a padded history. Live, FreqAI predicts on the last ``conv_width``
  candles (default 1): set ``freqai.conv_width`` >= ``window`` so the live candle gets its full
  history (the ensemble's FreqAI model warns at start-up otherwise).
- Rows removed by FreqAI's outlier filters (SVM, DBSCAN) are simply absent from the training
  matrix: the windows then span the gap.

Training: features and target are standardised on the fit rows; Adam on the (sample-weighted)
squared error, mini-batches of windows; early stopping on the time-ordered tail of the fit rows
(the last ``validation_fraction``, after ``validation_gap`` purged rows); the weights of the best
validation epoch are kept. CPU only, ``n_threads`` torch threads, seeded by ``random_state``.
The fitted weights are kept as numpy arrays, so the member pickles (FreqAI's joblib model
storage) without PyTorch tensors and the network is rebuilt on first use after loading.
"""

from typing import Any

import numpy as np


INSTALL_HINT = "lstm member needs PyTorch: pip install -e .[lstm] (or make venv-lstm)"
DEFAULT_WINDOW = 24  # candles of history per prediction (one day of 1h candles)


def require_torch():
    """The ``torch`` module, or ImportError with the one-line install hint."""
    try:
        import torch
    except ImportError as err:  # also raised when sys.modules["torch"] is None
        raise ImportError(INSTALL_HINT) from err
    return torch


def lagged_windows(X: np.ndarray, window: int) -> np.ndarray:
    """(rows, window, features): row ``t`` holds ``X[t - window + 1 .. t]``, oldest first.

    Indices before 0 are clipped to 0 (the earliest row is repeated), so no window ever holds a
    row after its own.
    """
    X = np.asarray(X)
    offsets = np.arange(-window + 1, 1)
    index = np.clip(np.arange(len(X))[:, None] + offsets[None, :], 0, None)
    return X[index]


def _standardiser(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = values.mean(axis=0)
    std = values.std(axis=0)
    return mean, np.where(std > 0, std, 1.0)


class LstmRegressor:
    """Scikit-learn style LSTM regressor: ``fit(X, y, sample_weight=None)``, ``predict(X)``.

    Parameters (validated): ``window`` rows of history per prediction; ``hidden_size`` and
    ``num_layers`` of the LSTM; ``dropout`` between layers (``num_layers`` > 1); ``learning_rate``
    and ``weight_decay`` of Adam; ``batch_size``; ``max_epochs``; ``patience`` epochs without a
    better validation loss before stopping; ``validation_fraction`` of the most recent fit rows
    for early stopping and ``validation_gap`` rows purged before them (the label horizon);
    ``n_threads`` torch threads; ``random_state``.

    Fitted: ``state_`` (numpy weights of the best epoch), ``best_epoch_``, ``epochs_run_``,
    ``validation_loss_`` (standardised MSE per epoch), ``n_features_in_``.
    """

    def __init__(self, window: int = DEFAULT_WINDOW, hidden_size: int = 16, num_layers: int = 1,
                 dropout: float = 0.0, learning_rate: float = 0.005, weight_decay: float = 0.0,
                 batch_size: int = 64, max_epochs: int = 40, patience: int = 5,
                 validation_fraction: float = 0.2, validation_gap: int = 0, n_threads: int = 1,
                 random_state: int = 0):
        require_torch()
        positive = {"window": window, "hidden_size": hidden_size, "num_layers": num_layers,
                    "batch_size": batch_size, "max_epochs": max_epochs, "patience": patience,
                    "n_threads": n_threads}
        for name, value in positive.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"lstm member: {name} must be an integer >= 1, got {value!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"lstm member: dropout must be in [0, 1), got {dropout}")
        if learning_rate <= 0 or weight_decay < 0:
            raise ValueError(f"lstm member: learning_rate must be > 0 and weight_decay >= 0, got "
                             f"{learning_rate} and {weight_decay}")
        if not 0 < validation_fraction < 1:
            raise ValueError(f"lstm member: validation_fraction must be in (0, 1), got "
                             f"{validation_fraction}")
        if isinstance(validation_gap, bool) or not isinstance(validation_gap, int) \
                or validation_gap < 0:
            raise ValueError(f"lstm member: validation_gap must be an integer >= 0, got "
                             f"{validation_gap!r}")
        self.window, self.hidden_size, self.num_layers = window, hidden_size, num_layers
        self.dropout, self.learning_rate, self.weight_decay = dropout, learning_rate, weight_decay
        self.batch_size, self.max_epochs, self.patience = batch_size, max_epochs, patience
        self.validation_fraction, self.validation_gap = validation_fraction, validation_gap
        self.n_threads, self.random_state = n_threads, random_state
        self.state_: dict[str, np.ndarray] = {}
        self._net = None

    # -- pickling: numpy weights only; the torch network is rebuilt on first use --

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_net"] = None
        return state

    # -- fitting --

    def fit(self, X, y, sample_weight=None) -> "LstmRegressor":
        """Fit on rows in time order (oldest first); early stopping on their most recent tail."""
        torch = require_torch()
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64).ravel()
        if X.ndim != 2 or len(X) != len(y):
            raise ValueError(f"lstm member: X must be rows x features matching y, got {X.shape} "
                             f"and {y.shape}")
        fit_end, val_start = self._split(len(y))
        self.n_features_in_ = X.shape[1]
        self.x_mean_, self.x_std_ = _standardiser(X)
        y_mean, y_std = _standardiser(y[:, None])
        self.y_mean_, self.y_std_ = float(y_mean[0]), float(y_std[0])
        windows = lagged_windows(((X - self.x_mean_) / self.x_std_).astype(np.float32),
                                 self.window)
        target = ((y - self.y_mean_) / self.y_std_).astype(np.float32)
        weight = (np.ones(len(y)) if sample_weight is None
                  else np.asarray(sample_weight, dtype=np.float64).ravel())
        weight = (weight / weight.mean()).astype(np.float32)

        threads = torch.get_num_threads()
        torch.set_num_threads(self.n_threads)
        try:
            torch.manual_seed(self.random_state)
            net = self._build_net(torch)
            tensors = [torch.from_numpy(np.ascontiguousarray(a))
                       for a in (windows, target, weight)]
            self._train(torch, net, [t[:fit_end] for t in tensors],
                        [t[val_start:] for t in tensors])
        finally:
            torch.set_num_threads(threads)
        return self

    def _split(self, n_rows: int) -> tuple[int, int]:
        n_val = max(1, round(n_rows * self.validation_fraction))
        val_start = n_rows - n_val
        fit_end = val_start - self.validation_gap
        if fit_end < 2:
            raise ValueError(f"lstm member: {n_rows} rows leave {fit_end} fit rows after the "
                             f"early-stopping tail ({n_val}) and gap ({self.validation_gap})")
        return fit_end, val_start

    def _train(self, torch, net, fit_rows, val_rows) -> None:
        optimiser = torch.optim.Adam(net.parameters(), lr=self.learning_rate,
                                     weight_decay=self.weight_decay)
        generator = torch.Generator().manual_seed(self.random_state)
        best_loss, best_state, stale = float("inf"), None, 0
        self.validation_loss_ = []
        for epoch in range(self.max_epochs):
            net.train()
            # Shuffling whole windows is safe: each window only holds rows up to its own.
            order = torch.randperm(len(fit_rows[0]), generator=generator)
            for batch in order.split(self.batch_size):
                optimiser.zero_grad()
                loss = self._loss(net, *(t[batch] for t in fit_rows))
                loss.backward()
                optimiser.step()
            net.eval()
            with torch.no_grad():
                val_loss = float(self._loss(net, *val_rows))
            self.validation_loss_.append(val_loss)
            if val_loss < best_loss:
                best_loss, stale, self.best_epoch_ = val_loss, 0, epoch + 1
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            else:
                stale += 1
                if stale >= self.patience:
                    break
        self.epochs_run_ = len(self.validation_loss_)
        if best_state is None:
            raise ValueError("lstm member: the validation loss was never finite (NaN or infinite "
                             "features or target?)")
        net.load_state_dict(best_state)
        net.eval()
        self.state_ = {k: v.numpy().copy() for k, v in best_state.items()}
        self._net = net

    @staticmethod
    def _loss(net, windows, target, weight):
        return (weight * (net(windows) - target) ** 2).mean()

    # -- prediction --

    def predict(self, X) -> np.ndarray:
        """One prediction per row of ``X`` from that row and the ``window - 1`` rows before it."""
        if not self.state_:
            raise ValueError("lstm member is not fitted yet; call fit() first")
        torch = require_torch()
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"lstm member: X must have {self.n_features_in_} feature columns, "
                             f"got shape {X.shape}")
        windows = lagged_windows(((X - self.x_mean_) / self.x_std_).astype(np.float32),
                                 self.window)
        threads = torch.get_num_threads()
        torch.set_num_threads(self.n_threads)
        try:
            net = self._network(torch)
            with torch.no_grad():
                out = net(torch.from_numpy(np.ascontiguousarray(windows))).numpy()
        finally:
            torch.set_num_threads(threads)
        return out.astype(np.float64) * self.y_std_ + self.y_mean_

    def _network(self, torch):
        if self._net is None:  # freshly unpickled: rebuild from the numpy weights
            net = self._build_net(torch)
            net.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in self.state_.items()})
            net.eval()
            self._net = net
        return self._net

    def _build_net(self, torch):
        return _lstm_network(torch, self.n_features_in_, self.hidden_size, self.num_layers,
                             self.dropout)


def _lstm_network(torch, n_features: int, hidden_size: int, num_layers: int, dropout: float):
    """LSTM over the window, then a linear head on the last step's hidden state."""
    nn = torch.nn

    class LastStepLstm(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(n_features, hidden_size, num_layers=num_layers,
                                dropout=dropout if num_layers > 1 else 0.0, batch_first=True)
            self.head = nn.Linear(hidden_size, 1)

        def forward(self, windows):
            out, _ = self.lstm(windows)
            return self.head(out[:, -1, :]).squeeze(-1)

    return LastStepLstm()

"""Wallet-balance metrics exactly as freqtrade reports them (shared by ``ftpack-demo`` and
``ftpack-validate``), so a strategy row and a buy-and-hold row are computed alike."""

import pandas as pd


def wallet_metrics(wallet: pd.DataFrame) -> dict[str, float]:
    """Max drawdown, Sharpe and Calmar from daily balances (frame with date, total_quote)."""
    from freqtrade.data.metrics import (
        calculate_calmar_from_balance,
        calculate_max_drawdown_from_balance,
        calculate_sharpe_from_balance,
    )

    try:
        drawdown = calculate_max_drawdown_from_balance(wallet).relative_account_drawdown
    except ValueError:
        drawdown = 0.0
    return {
        "max_drawdown": float(drawdown),
        "sharpe": float(calculate_sharpe_from_balance(wallet)),
        "calmar": float(calculate_calmar_from_balance(wallet)),
    }

"""
Exposure limit: caps on total and per-pair open stake, and on slippage and spread at entry.
"""

from typing import Any

from freqtrade.constants import Config, LongShort
from freqtrade.plugins.protections import IProtection, ProtectionReturn

from plugins.integration.exposure import DEFAULTS, ExposureSettings, register
from plugins.integration.settings import PROTECTIONS_SECTION, check_known_keys


class ExposureLimit(IProtection):
    """
    Entry-time limits across every open trade of the bot (``plugins/integration/exposure.py``):

    * ``max_total_exposure`` (fraction, default 0.5): stake in open trades <= 50 % of equity;
    * ``max_position`` (fraction, default 0.1, <= max_total_exposure): one pair's open stake <= 10 %;
    * ``max_slippage`` (fraction, default 0.01): the fill rate within 1 % of the signal close;
    * ``max_spread`` (fraction, default 0.005): the ticker's spread at most 0.5 %.

    Stakes are cut to the room left; entries still over a cap, or with too much slippage or
    spread, are refused. It never locks pairs from closed trades, so freqtrade's after-exit
    protection runs find nothing to do here.
    """

    has_global_stop: bool = False
    has_local_stop: bool = False

    def __init__(self, config: Config, protection_config: dict[str, Any]) -> None:
        # A typo names the closest valid key (the pack's one validation path), then the limits.
        check_known_keys(
            self.__class__.__name__, protection_config, [*DEFAULTS, "method"],
            where=PROTECTIONS_SECTION,
        )
        self.settings = ExposureSettings(protection_config)  # validated before anything else
        super().__init__(config, protection_config)
        register(self)

    def short_desc(self) -> str:
        s = self.settings
        return (f"{self.name} - open stake <= {s.max_total:.0%} of equity, <= {s.max_position:.0%} "
                f"per pair; fills within {s.max_slippage:.1%} of the signal, spread <= "
                f"{s.max_spread:.1%}.")

    def global_stop(self, date_now, side: LongShort, starting_balance: float = 0.0
                    ) -> ProtectionReturn | None:
        return None

    def stop_per_pair(self, pair, date_now, side: LongShort, starting_balance: float = 0.0
                      ) -> ProtectionReturn | None:
        return None

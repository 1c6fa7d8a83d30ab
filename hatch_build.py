"""Hatchling build hook: ship the pack's start-up hook as a .pth file.

Python runs `import` lines of every .pth file in site-packages at interpreter start-up. The pack
uses that to register its pairlist and protection folders with freqtrade's resolvers, because
freqtrade 2026.9 only searches its own package directory for those plugin types.
The file goes into both normal and editable wheels; its name sorts after hatchling's own
editable-path .pth (which starts with "_"), so `plugins` is importable when it runs.
"""

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


PTH_SOURCE = "plugins/freqtrade_strategy_pack.pth"
PTH_TARGET = "freqtrade_strategy_pack.pth"


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version, build_data):
        key = "force_include_editable" if version == "editable" else "force_include"
        build_data.setdefault(key, {})[PTH_SOURCE] = PTH_TARGET

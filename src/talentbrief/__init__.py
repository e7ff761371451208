"""talentbrief: curated figures on China's talent-training programmes, turned into briefings."""

__version__ = "0.1.0"

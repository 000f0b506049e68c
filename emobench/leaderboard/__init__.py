"""The static leaderboard: result files in, a static site out (no torch, no models, no cache)."""

from emobench.leaderboard.build import BuildReport, build_site
from emobench.leaderboard.collect import Collection, Problem, collect

__all__ = ["BuildReport", "Collection", "Problem", "build_site", "collect"]

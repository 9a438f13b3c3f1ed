"""Shared runtime for every reelflow service process."""

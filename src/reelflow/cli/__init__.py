"""The reelflow command line."""

"""reelflow.script service."""

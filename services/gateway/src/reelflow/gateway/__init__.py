"""reelflow.gateway service."""

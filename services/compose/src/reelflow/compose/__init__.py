"""reelflow.compose service."""

"""reelflow.storage service."""

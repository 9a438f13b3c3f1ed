"""reelflow.uploader service."""

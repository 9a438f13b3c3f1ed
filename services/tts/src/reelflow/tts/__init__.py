"""reelflow.tts service."""

"""Settings of the tts service."""

import json

from pydantic import Field, SecretStr, field_validator, model_validator

from reelflow.contracts import VoiceProvider
from reelflow.runtime.settings import ServiceSettings


class TtsSettings(ServiceSettings):
    service_name: str = "tts"
    scene_timeout_sec: float = 60.0
    parallel_scenes: int = 4
    trailing_silence_sec: float = 0.35

    voice_providers: list[VoiceProvider] = Field(
        default_factory=lambda: list[VoiceProvider](["espeak"]),
        description='The speech providers jobs may ask for, as a JSON list (e.g. ["espeak", "polly"]); espeak is '
        "always there. Give the gateway the same list so it refuses the others at submit.",
    )
    speech_request_timeout_sec: float = Field(
        default=30.0, gt=0, le=600, description="How long one cloud speech request may take (within the scene's)."
    )
    openai_tts_api_key: SecretStr = Field(default=SecretStr(""), description="OpenAI TTS: the API key.")
    openai_tts_base_url: str = Field(
        default="", description="OpenAI TTS: another server speaking /v1/audio/speech (empty: api.openai.com)."
    )
    openai_tts_model: str = Field(default="gpt-4o-mini-tts", description="OpenAI TTS: the model.")
    openai_tts_voice: str = Field(default="alloy", description="OpenAI TTS: the voice when a job names none.")
    polly_region: str = Field(default="us-east-1", description="AWS Polly: the region.")
    polly_access_key_id: str = Field(
        default="", description="AWS Polly: the access key (empty: boto3's own chain, e.g. the machine's role)."
    )
    polly_secret_access_key: SecretStr = Field(default=SecretStr(""), description="AWS Polly: the secret key.")
    polly_endpoint_url: str = Field(default="", description="AWS Polly: another endpoint (empty: the region's).")
    polly_engine: str = Field(
        default="", description="AWS Polly: neural, standard, … (empty: the voice's best, neural where it has it)."
    )
    google_tts_api_key: SecretStr = Field(default=SecretStr(""), description="Google Cloud TTS: an API key.")
    google_tts_credentials_file: str = Field(
        default="", description="Google Cloud TTS: a service account's JSON key file (instead of an API key)."
    )
    google_tts_endpoint: str = Field(
        default="texttospeech.googleapis.com", description="Google Cloud TTS: the API endpoint."
    )

    @field_validator("voice_providers", mode="before")
    @classmethod
    def _list_from_json_text(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _enabled_providers_are_configured(self) -> "TtsSettings":
        if "openai" in self.voice_providers and not self.openai_tts_api_key.get_secret_value():
            raise ValueError("REELFLOW_VOICE_PROVIDERS enables openai: set REELFLOW_OPENAI_TTS_API_KEY")
        google_key = self.google_tts_api_key.get_secret_value()
        if "google" in self.voice_providers and not (google_key or self.google_tts_credentials_file):
            raise ValueError(
                "REELFLOW_VOICE_PROVIDERS enables google: set REELFLOW_GOOGLE_TTS_API_KEY or "
                "REELFLOW_GOOGLE_TTS_CREDENTIALS_FILE"
            )
        return self

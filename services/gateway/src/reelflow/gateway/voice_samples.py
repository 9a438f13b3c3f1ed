"""Short samples of espeak-ng's voices for the studio to play (``GET /api/voices/sample``), rendered by the gateway
process on request, bounded in time and concurrency, and kept in memory.

Only espeak-ng's: it runs here at no cost. A cloud provider's sample would be a paid call per listen, so none is
made.
"""

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from reelflow.gateway.refusals import DependencyUnavailableError, InvalidRequestError
from reelflow.runtime.failures import ReelflowError
from reelflow.runtime.processes import run_process
from reelflow.runtime.voice_catalogue import VoiceCatalogue, espeak_catalogue

SAMPLE_SENTENCES = {
    "ko": "안녕하세요. 이 목소리로 영상을 읽어 드립니다.",
    "en": "Hello. This is the voice that will read your video.",
    "ja": "こんにちは。この声で動画を読み上げます。",
    "de": "Hallo. Mit dieser Stimme wird Ihr Video gelesen.",
    "fr": "Bonjour. C'est cette voix qui lira votre vidéo.",
    "es": "Hola. Esta es la voz que leerá tu vídeo.",
}
SAMPLE_TIMEOUT_SEC = 10.0
KEPT_SAMPLES = 64
PARALLEL_SAMPLES = 2  # the gateway's CPU is for answering requests; a burst of listens waits its turn


def sample_sentence(voice: str) -> str:
    """The sentence for an espeak-ng voice named by its language (``ko``, ``en-gb``); English for the rest."""
    primary = voice.strip().lower().replace("_", "-").split("-")[0].split("/")[-1]
    return SAMPLE_SENTENCES.get(primary, SAMPLE_SENTENCES["en"])


class VoiceSamples:
    def __init__(
        self,
        catalogue: Callable[[], Awaitable[VoiceCatalogue]] = espeak_catalogue,
        *,
        timeout_sec: float = SAMPLE_TIMEOUT_SEC,
    ) -> None:
        self._catalogue = catalogue
        self._timeout_sec = timeout_sec
        self._kept: OrderedDict[str, bytes] = OrderedDict()
        self._limiter = asyncio.Semaphore(PARALLEL_SAMPLES)

    async def espeak_sample(self, voice: str) -> bytes:
        """A WAV of ``voice`` saying a short sentence in its language; a voice espeak-ng does not have is a 422."""
        key = voice.strip().lower()
        if (kept := self._kept.get(key)) is not None:
            self._kept.move_to_end(key)
            return kept
        try:
            catalogue = await self._catalogue()
        except ReelflowError as exc:
            raise DependencyUnavailableError("espeak-ng", what="listing its voices") from exc
        if not catalogue.knows(key):
            suggestions = ", ".join(catalogue.closest(key)) or "see GET /api/voices"
            raise InvalidRequestError.of(
                [{"field": "voice", "problem": f"espeak-ng has no voice {voice!r} (e.g. {suggestions})"}]
            )
        async with self._limiter:
            try:
                result = await run_process(
                    ["espeak-ng", "-v", key, "-b", "1", "--stdout", "--stdin"],
                    stdin=sample_sentence(key).encode(),
                    timeout_sec=self._timeout_sec,
                )
            except (ReelflowError, OSError) as exc:
                raise DependencyUnavailableError("espeak-ng", what="speaking a sample") from exc
        self._kept[key] = result.stdout
        while len(self._kept) > KEPT_SAMPLES:
            self._kept.popitem(last=False)
        return result.stdout

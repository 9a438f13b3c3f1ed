"""reelflow.script: the script service, lesson text or a topic → a chaptered, timed ``VideoScript``.

- ``handlers``: the ``rf.script.requested`` subscriber (thin); ``writing``: which writer runs for a request.
- ``llm``, ``prompts``, ``llm_answers``: the OpenAI-compatible LLM writer, its prompts and answer parsing.
- ``outline`` with ``markdown_blocks``, ``sentences``, ``key_phrase``, ``reading_speed``, ``pacing`` and
  ``partitioning``: the offline outline writer.
- ``validation``: the contract and bounds check both writers' scripts pass.
"""

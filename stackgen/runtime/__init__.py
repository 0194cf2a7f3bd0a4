"""The reference runtime image's entrypoint: engine settings in, vLLM's OpenAI server out.

Never imports stackgen.cli: the image installs only what this package needs.
"""

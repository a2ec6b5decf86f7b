"""Fill-in-the-middle completion with repository context (``reviewer fim``, ``reviewer fim-server``).

- ``repoindex``: the repository in memory (definitions, outlines, imports, line fingerprints);
  ``watch`` keeps it current.
- ``imports``: what a file imports and where that lives.
- ``context``: what the code around a cursor uses from other files, fitted to a token budget.
- ``window`` / ``counting``: the text around the cursor cut by lines; token counts.
- ``providers`` (+ ``templates.toml``): DeepSeek beta, raw FIM prompts (vLLM), ``suffix`` servers,
  llama.cpp ``/infill``.
- ``engine``: one completion: context, request, stop rules, supersession, deadline, cache.
- ``protocol`` / ``server`` / ``service``: llama.cpp and OpenAI wire formats, the HTTP server,
  putting it together.
"""

"""Pull-request reviews on forges (GitHub, GitLab) behind one interface.

- ``anchors``: the diff parsed into commentable lines; findings placed on them.
- ``base``: the ``Forge`` interface; ``github`` and ``gitlab`` implement it.
- ``post``: what to post inline, what goes to the summary, no duplicates across pushes.
- ``summary``, ``bodies``, ``markers``: the text we post and the hidden markers in it.
- ``context``: which pull request, from CI environments and event payloads.
- ``gitops``, ``baseconfig``: git facts and the base branch's configuration.
- ``bundle``, ``artifacts``: the review as data and as files (forks, two-stage workflows).
- ``runner``: ``run_pr``, the whole flow.
"""

"""reviewer: pack a repository into an exact token budget and review it with DeepSeek V4."""

__version__ = "0.1.0"

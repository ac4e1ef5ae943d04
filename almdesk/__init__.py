"""almdesk: desktop configuration and sync console for ALM integrations."""

__version__ = "0.1.0"

"""The web dashboard: pages for the manager, login links, /healthz and /metrics."""

"""Network layer: session factory (retries, TLS, proxies, pacing) and the redacted HTTP trace."""

"""Tests of almdesk.net: network diagnosis steps, TLS verification and proxies (real servers on loopback)."""

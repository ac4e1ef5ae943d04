"""The ground floor: what every layer above shares, importing nothing of almdesk but ``errors``.

``fields`` (the settings schema), ``settings`` (connector/connection/network settings handed to a
system), ``records`` (results: steps, gate, defect, sync items) and ``failures`` (which failed
writes may still land). ``net``, ``systems``, ``sync``, ``jobs`` and the UI stand on it; it
imports none of them.
"""

"""Trust a server's certificate for one connector: show it, and add it to the connector's CA bundle
only when the user says yes (the job and the bundle file: :mod:`almdesk.services.certs`)."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from almdesk.services import Services


def offer_trust(parent: QWidget, services: Services, name: str, uid: str, cert: dict[str, str],
                current_bundle: str) -> str | None:
    """Ask whether to trust ``cert`` for connector ``name``; on Yes the CA bundle's path, with it added."""
    from almdesk.services.certs import trust

    answer = QMessageBox.question(
        parent, "Trust this certificate?",
        f"The server presented:\n\n{cert['summary']}\n\nCompare the SHA-256 fingerprint with the one "
        f"your server's admin gives you. Trust it for connector {name!r} only?")
    if answer != QMessageBox.StandardButton.Yes:
        return None
    return trust(services, uid, cert["pem"], current_bundle)

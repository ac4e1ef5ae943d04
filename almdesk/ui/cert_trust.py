"""Trust a server's certificate for one connector: fetch it in the worker, show it, append it to the
connector's CA bundle only when the user says yes.

:func:`certificate_spec` is the job (no HTTP in the UI thread); :func:`offer_trust` asks and writes the
bundle file, returning its path (None when the user declined).
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from almdesk.base.settings import ConnectorSettings
from almdesk.jobs.context import JobContext, JobOutcome
from almdesk.jobs.record import JobSpec
from almdesk.services import Services


def certificate_spec(services: Services, connector: ConnectorSettings) -> JobSpec:
    """A job fetching the certificate of ``connector``'s server (its ``data["certificate"]``)."""
    from almdesk.net.certs import fetch_certificate

    url = services.registry.get(connector.system).base_url(connector)

    def fetch(_ctx: JobContext) -> JobOutcome:
        cert = fetch_certificate(url, connector.network).trust_anchor
        return JobOutcome(True, f"Fetched the certificate of {url}",
                          data={"certificate": {"pem": cert.pem, "summary": cert.summary(),
                                                "sha256": cert.sha256, "subject": cert.subject}})

    return JobSpec("certificate", f"Fetch certificate of {url}", fetch, connector_id=connector.id)


def offer_trust(parent: QWidget, services: Services, name: str, uid: str, cert: dict[str, str],
                current_bundle: str) -> str | None:
    """Ask whether to trust ``cert`` for connector ``name``; on Yes the CA bundle's path, with it added."""
    from almdesk.net.certs import append_to_bundle, bundle_file

    answer = QMessageBox.question(
        parent, "Trust this certificate?",
        f"The server presented:\n\n{cert['summary']}\n\nCompare the SHA-256 fingerprint with the one "
        f"your server's admin gives you. Trust it for connector {name!r} only?")
    if answer != QMessageBox.StandardButton.Yes:
        return None
    return str(append_to_bundle(cert["pem"], bundle_file(services.paths.certs, uid), existing=current_bundle))

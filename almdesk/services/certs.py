"""Trusting a server's certificate for one connector: the job that fetches it, and adding it to the
connector's CA bundle (a file under the data directory's ``certs/``; the settings keep its path).

No Qt here: the GUI asks the question, these do the work.
"""

from __future__ import annotations

from almdesk.base.settings import ConnectorSettings
from almdesk.jobs.context import JobContext, JobOutcome
from almdesk.jobs.record import JobSpec
from almdesk.services.wiring import Services


def certificate_spec(services: Services, connector: ConnectorSettings) -> JobSpec:
    """A job fetching the certificate of ``connector``'s server (settings as given): its
    ``data["certificate"]`` has the PEM, a summary, the SHA-256 fingerprint and the subject."""
    from almdesk.net.certs import fetch_certificate

    url = services.registry.get(connector.system).base_url(connector)

    def fetch(_ctx: JobContext) -> JobOutcome:
        cert = fetch_certificate(url, connector.network).trust_anchor
        return JobOutcome(True, f"Fetched the certificate of {url}",
                          data={"certificate": {"pem": cert.pem, "summary": cert.summary(),
                                                "sha256": cert.sha256, "subject": cert.subject}})

    return JobSpec("certificate", f"Fetch certificate of {url}", fetch, connector_id=connector.id)


def trust(services: Services, uid: str, pem: str, current_bundle: str) -> str:
    """Add ``pem`` to the CA bundle of connector ``uid`` (keeping ``current_bundle``'s certificates);
    the bundle's path, for the connector's CA bundle setting."""
    from almdesk.net.certs import append_to_bundle, bundle_file

    return str(append_to_bundle(pem, bundle_file(services.paths.certs, uid), existing=current_bundle))

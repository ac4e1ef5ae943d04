"""Remote admin of an SD Elements server's ALM connectors and connections (seed 002's API).

``pull`` brings the server's items into the local store (secrets straight to the keyring; a
connection's inherited params split from its own), ``plan`` says per item and field what a push
would change, ``push`` writes it (POST/PATCH in the seed's shapes), ``reports`` queues a mirrored
connection's job results for the server's job history and sends each once. The pull reuses the
import's mapping (:mod:`almdesk.transfer`); nothing here imports Qt.
"""

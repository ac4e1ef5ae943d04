"""Tests of the GitHub system: sandbox, client, Test Connection, issue, gate, sync, vendor client, OpenAPI."""

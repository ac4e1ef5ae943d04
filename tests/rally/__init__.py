"""Tests of the Rally system: sandbox wire protocol, client, Test Connection, defects, gate, sync, pyral."""

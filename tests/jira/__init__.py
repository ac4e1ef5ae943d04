"""Jira tests: sandbox wire protocol, client, Test Connection, Create Defect, Gate, sync adapter."""

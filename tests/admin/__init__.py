"""Tests of import/export, the support bundle, the debug trace and the secrets canary."""
